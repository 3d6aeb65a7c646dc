"""Issue 14: *Test connection* tries the form's values before they are saved,
under the rules saving applies (issue 9): the platform key never goes to a URL
the client typed, a base URL of the client's own needs the client's own key,
and a typed key is used for that one call, never stored.

Through the real web server; a capture server records what a typed Base URL
receives."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from chat.models import BotConfig
from tests.llm.helpers import CLIENT_KEY, PLATFORM_KEY, save_bot_settings, sha

pytestmark = pytest.mark.worker
MODEL_OBJECT = {"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "acme"}


def test_connection(site, **typed) -> dict:
    """POST the Bot settings form to Test connection, as bot_settings.js does."""
    form = {"name": "Acme bot", "accent_color": "#112233", "model": "gpt-4o-mini",
            "temperature": "0.2", "max_output_tokens": "256", "history_messages": "4",
            "base_url": "", "organization": "", "project": "", "api_key": ""}
    form.update(typed)
    return site.post("/settings/bot/test/", form).json()


test_connection.__test__ = False  # a helper, not a test


def saved(result) -> BotConfig:
    with schema_context(result.client.schema_name):
        return BotConfig.objects.get()


def test_a_typed_base_url_without_a_key_is_refused_before_any_call(
        tenant, gateway_server, model):
    result, site = tenant
    gateway_server.answer(200, MODEL_OBJECT)
    check = test_connection(site, base_url=f"{gateway_server.url}/v1")
    assert check["ok"] is False and "own API key" in check["message"], check
    assert gateway_server.requests == []
    assert model.requests() == []  # nor silently the platform instead
    assert saved(result).base_url == ""


def test_a_typed_key_goes_to_the_typed_url_once_and_is_not_stored(tenant, gateway_server):
    result, site = tenant
    gateway_server.answer(200, MODEL_OBJECT, path="/v1/models/gpt-4o-mini")
    url = f"{gateway_server.url}/v1"
    check = test_connection(site, base_url=url, api_key=CLIENT_KEY)
    assert check["ok"] is True and "Connected to" in check["message"], check
    [request] = gateway_server.requests
    assert request.path == "/v1/models/gpt-4o-mini"
    assert request.headers["authorization"] == f"Bearer {CLIENT_KEY}"
    assert PLATFORM_KEY not in request.raw()
    config = saved(result)
    assert (config.base_url, config.api_key_encrypted, config.api_key_last4) == ("", "", "")


def test_a_refused_typed_url_is_named_and_nothing_is_sent(tenant, model):
    result, site = tenant
    check = test_connection(site, base_url="http://127.0.0.1:9/v1", api_key=CLIENT_KEY)
    assert check["ok"] is False and "internal network" in check["message"], check
    assert model.requests() == []


def test_typed_model_and_stored_settings(tenant, gateway_server, model):
    result, site = tenant
    # The platform endpoint with a typed model id: the platform key, the typed model.
    check = test_connection(site, model="no-such-model")
    assert check["ok"] is False, check
    assert [r["path"] for r in model.requests()] == ["/v1/models/no-such-model"]
    assert {r["api_key_sha256"] for r in model.requests()} == {sha(PLATFORM_KEY)}
    assert saved(result).model != "no-such-model"

    # A stored key of the client's own goes with a typed base URL (as saving allows),
    # and "remove the stored key" ticked means the test runs without it.
    gateway_server.answer(200, MODEL_OBJECT, path="/v1/models/gpt-4o-mini")
    assert save_bot_settings(site, api_key=CLIENT_KEY).status_code == 302
    url = f"{gateway_server.url}/v1"
    assert test_connection(site, base_url=url)["ok"] is True
    assert gateway_server.requests[-1].headers["authorization"] == f"Bearer {CLIENT_KEY}"
    check = test_connection(site, base_url=url, clear_api_key="on")
    assert check["ok"] is False and "own API key" in check["message"], check
    assert len(gateway_server.requests) == 1
    assert saved(result).api_key_last4 == CLIENT_KEY[-4:]  # still stored


def test_without_the_form_the_saved_settings_are_tested(tenant, model):
    result, site = tenant
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is True and model.base_url in check["message"], check
