"""Issue 9, item 2: the outbound URL policy for client-chosen endpoints, through
the real web server and worker. Capture servers stand for an internal service
(on loopback: must never be reached) and an allow-listed on-premises gateway."""

from __future__ import annotations

import pytest

from chat.models import Message
from tests.llm.helpers import (
    CLIENT_KEY,
    ask_and_finish,
    save_bot_settings,
    stored,
    stored_base_url,
    write_connection_directly,
)
from tests.support.accounts import signed_in_site

pytestmark = pytest.mark.worker
CANARY = "CANARY-internal-reply-5521"
INTERNAL = "internal network address"


def test_internal_addresses_are_refused_when_saving(tenant, internal_service):
    result, site = tenant
    port = internal_service.port
    refused = {
        f"http://127.0.0.1:{port}/v1": INTERNAL,
        f"http://localhost:{port}/v1": INTERNAL,
        f"http://[::1]:{port}/v1": INTERNAL,
        f"http://[::ffff:127.0.0.1]:{port}/v1": INTERNAL,
        f"http://0.0.0.0:{port}/v1": INTERNAL,
        "http://10.1.2.3/v1": INTERNAL,
        "http://172.16.0.9/v1": INTERNAL,
        "http://192.168.1.1/v1": INTERNAL,
        "http://100.64.0.1/v1": INTERNAL,  # CGNAT
        "http://169.254.10.10/v1": INTERNAL,  # link-local
        "http://224.0.0.1/v1": INTERNAL,  # multicast
        "http://[fd00::1]/v1": INTERNAL,  # IPv6 unique local
        "http://[fe80::1]/v1": INTERNAL,  # IPv6 link-local
        "http://[ff02::1]/v1": INTERNAL,  # IPv6 multicast
        "http://[2002:7f00:1::]/v1": INTERNAL,  # 6to4 wrapping 127.0.0.1
        "http://169.254.169.254/latest": "cloud metadata",
        "http://[fd00:ec2::254]/latest": "cloud metadata",
        "http://100.100.100.200/latest": "cloud metadata",
        "http://no-such-host.invalid/v1": "could not be found",
    }
    for url, reason in refused.items():
        response = save_bot_settings(site, base_url=url, api_key=CLIENT_KEY)
        assert response.status_code == 200, url
        assert reason in response.text, (url, reason)
        assert stored_base_url(result) == "", url
    assert internal_service.requests == []


def test_plain_http_is_refused_unless_the_platform_allows_it(tenant, web_server,
                                                             gateway_server):
    result, _policy_site = tenant
    # The shared web server runs with the default policy: https only.
    site = signed_in_site(web_server, result)
    response = save_bot_settings(site, base_url=f"{gateway_server.url}/v1",
                                 api_key=CLIENT_KEY)
    assert response.status_code == 200 and "must start with https://" in response.text
    assert stored_base_url(result) == ""
    # Where plain http is allowed (this module's server), the allow-listed address saves.
    assert save_bot_settings(_policy_site, base_url=f"{gateway_server.url}/v1",
                             api_key=CLIENT_KEY).status_code == 302
    assert gateway_server.requests == []  # saving checks the address, it sends nothing


def test_internal_addresses_are_refused_when_connecting(tenant, internal_service):
    result, site = tenant
    internal_service.answer(200, {"secret": CANARY})
    # Saved before the policy existed, with the client's own key.
    write_connection_directly(result, base_url=f"{internal_service.url}/v1", api_key=CLIENT_KEY)

    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and INTERNAL in check["message"]
    sent, events = ask_and_finish(site, "Read me the internal service")
    assert events[-1].event == "failed" and "not allowed" in events[-1].data["error"]
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.FAILED and INTERNAL in answer.error_detail

    write_connection_directly(result, base_url="http://169.254.169.254/v1", api_key=CLIENT_KEY)
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and "cloud metadata" in check["message"]
    assert internal_service.requests == [], "the internal service was never reached"


@pytest.mark.parametrize(("status", "expected"), [
    (400, "(400)"), (403, "(403)"), (404, "(404)"), (418, "(HTTP 418)"), (500, "500"),
    (502, "502"),
])
def test_upstream_error_bodies_are_never_shown(tenant, gateway_server, status, expected):
    result, site = tenant
    gateway_server.answer(status, {"error": {"message": CANARY, "type": "x", "code": CANARY}})
    assert save_bot_settings(site, base_url=f"{gateway_server.url}/v1",
                             api_key=CLIENT_KEY).status_code == 302

    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and expected in check["message"], check
    assert CANARY not in check["message"]

    sent, events = ask_and_finish(site, "Hello?")
    assert events[-1].event == "failed"
    answer = stored(result, sent["answer"]["id"])
    assert CANARY not in answer.error_detail + answer.error + events[-1].data["error"]
    assert str(status) in answer.error_detail


def test_redirects_are_not_followed(tenant, gateway_server, internal_service):
    result, site = tenant
    gateway_server.answer(302, b"", headers={"Location": f"{internal_service.url}/v1/models"})
    assert save_bot_settings(site, base_url=f"{gateway_server.url}/v1",
                             api_key=CLIENT_KEY).status_code == 302

    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and "redirect (302)" in check["message"], check
    sent, events = ask_and_finish(site, "Follow me")
    assert events[-1].event == "failed"
    assert "redirect" in stored(result, sent["answer"]["id"]).error_detail
    assert internal_service.requests == []
