"""Issue 9, item 1: the platform's API key is bound to the platform's endpoint.

Through the real web server and worker; a capture server on a second address
records every request (raw headers and body) a tenant-chosen Base URL receives.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from chat.models import BotConfig, Message
from devtools.local_model import LocalModelServer
from tests.knowledge.helpers import turn_semantic_search_on, upload, wait_until_finished
from tests.llm.helpers import (
    ALLOWED_HOST,
    CLIENT_KEY,
    PLATFORM_KEY,
    ask_and_finish,
    save_bot_settings,
    sha,
    stored,
    stored_base_url,
    write_connection_directly,
)

pytestmark = pytest.mark.worker
MODEL_OBJECT = {"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "acme"}


def ingest(site, name: str, data: bytes) -> dict:
    response = upload(site, name, data)
    assert response.status_code == 201, response.text
    return wait_until_finished(site, response.json()["file"]["id"])


def test_a_base_url_without_the_clients_own_key_is_refused_everywhere(
        tenant, gateway_server, model):
    result, site = tenant
    gateway_server.answer(200, MODEL_OBJECT)
    url = f"{gateway_server.url}/v1"

    # Saving: a form error on the Bot settings page, nothing stored.
    response = save_bot_settings(site, base_url=url)
    assert response.status_code == 200
    assert "needs your own API key" in response.text
    assert stored_base_url(result) == ""

    # A row saved before the rule (or written around the form): every path refuses.
    write_connection_directly(result, base_url=url, api_key=None)
    vectors_on = turn_semantic_search_on(site, result.client)
    file = ingest(site, "otters.txt", b"Otters hold hands while they sleep.")
    assert file["status"] == "ready" and file["embedded_chunks"] == 0  # embed refused

    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and "own API key" in check["message"]

    sent, events = ask_and_finish(site, "Do otters hold hands?")
    assert events[-1].event == "failed"
    assert "not allowed" in events[-1].data["error"]
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.FAILED and "own API key" in answer.error_detail

    page = site.http.get("/settings/bot/")
    assert page.status_code == 200 and "Nothing is sent to this base URL" in page.text

    assert gateway_server.requests == [], "the capture server received nothing"
    assert model.requests("/v1/chat/completions") == []  # nor silently the platform
    if vectors_on:
        assert model.requests("/v1/embeddings") == []


def test_own_key_goes_to_own_base_url_and_the_platform_key_never_does(
        tenant, gateway_server, model):
    result, site = tenant
    gateway_server.answer(200, MODEL_OBJECT, path="/v1/models/gpt-4o-mini")
    gateway_server.answer(401, {"error": {"message": "CANARY-upstream-says-7731",
                                          "type": "invalid_request_error"}})
    url = f"{gateway_server.url}/v1"

    assert save_bot_settings(site, base_url=url, api_key=CLIENT_KEY).status_code == 302
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is True and "Connected to" in check["message"], check

    sent, events = ask_and_finish(site, "Hello?")
    assert events[-1].event == "failed"
    answer = stored(result, sent["answer"]["id"])
    assert "(401)" in answer.error_detail
    assert "CANARY" not in answer.error_detail + answer.error

    paths = [request.path for request in gateway_server.requests]
    assert "/v1/models/gpt-4o-mini" in paths and "/v1/chat/completions" in paths
    for request in gateway_server.requests:
        assert request.headers["authorization"] == f"Bearer {CLIENT_KEY}"
        assert PLATFORM_KEY not in request.raw()
    prompt = [r for r in gateway_server.requests if r.path == "/v1/chat/completions"][0]
    assert b"Hello?" in prompt.body  # the client's own endpoint gets the prompt, by choice

    # Removing the key while the base URL stays is refused: the key stays stored.
    response = save_bot_settings(site, base_url=url, clear_api_key="on")
    assert response.status_code == 200 and "needs your own API key" in response.text
    with schema_context(result.client.schema_name):
        assert BotConfig.objects.get().api_key_last4 == CLIENT_KEY[-4:]


def test_chat_and_embeddings_use_the_same_resolved_endpoint_and_key(tenant, model):
    result, site = tenant
    with LocalModelServer(api_key=CLIENT_KEY, host=ALLOWED_HOST) as own:
        response = save_bot_settings(site, base_url=own.base_url, api_key=CLIENT_KEY)
        assert response.status_code == 302
        vectors_on = turn_semantic_search_on(site, result.client)
        file = ingest(site, "otters.txt", b"Otters hold hands while they sleep.")
        assert file["status"] == "ready"
        model.clear()

        sent, events = ask_and_finish(site, "Do otters hold hands while they sleep?")

        assert events[-1].event == "done"
        received = own.requests()
        paths = {request["path"] for request in received}
        assert "/v1/chat/completions" in paths
        if vectors_on:  # the file's chunks and the question were embedded there too
            assert file["embedded_chunks"] == file["chunks"] >= 1
            assert len([r for r in received if r["path"] == "/v1/embeddings"]) >= 2
        assert {request["api_key_sha256"] for request in received} == {sha(CLIENT_KEY)}
        assert model.requests() == [], "the platform endpoint saw none of this client's calls"


def test_the_platform_endpoint_keeps_working_with_the_platform_key(tenant, model):
    result, site = tenant
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is True and model.base_url in check["message"]
    sent, events = ask_and_finish(site, "Still there?")
    assert events[-1].event == "done"
    assert {r["api_key_sha256"] for r in model.requests()} == {sha(PLATFORM_KEY)}

    # Naming the platform's own endpoint explicitly needs no key of one's own.
    assert save_bot_settings(site, base_url=model.base_url).status_code == 302
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is True, check
