"""Every response of the real web server carries the Content-Security-Policy and
the Permissions-Policy: a client's page, the platform's pages (also the Django
admin), error pages, and the page for a host with no workspace, which
django-tenants answers before any later middleware runs."""

from __future__ import annotations

import httpx
import pytest
from django.conf import settings

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "serial",
                   "hid", "midi", "display-capture"]


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def parse_permissions_policy(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(","))


def get(web_server, host: str, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{web_server.port}{path}",
                     headers={"Host": f"{host}:{web_server.port}"}, timeout=30)


def assert_policies(response: httpx.Response) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"no Content-Security-Policy on {response.request.url} ({response.status_code})"
    directives = parse_csp(csp)
    assert directives == EXPECTED_CSP
    assert not any("unsafe" in value for values in directives.values() for value in values)
    assert "Content-Security-Policy-Report-Only" not in response.headers

    policy = parse_permissions_policy(response.headers["Permissions-Policy"])
    for feature in DENIED_FEATURES:
        assert policy.get(feature) == "()", f"{feature} is not denied: {policy}"
    assert "clipboard-write" not in policy  # the Copy button of an answer needs it


@pytest.fixture
def client_host(make_client) -> str:
    return make_client("csph").domain.domain


@pytest.mark.parametrize("path, status", [
    ("/accounts/login/", 200),
    ("/accounts/password/reset/", 200),
    ("/", 302),  # to the login page
    ("/no-such-page/", 404),
])
def test_a_clients_site_sends_both_policies(web_server, client_host, path, status):
    response = get(web_server, client_host, path)
    assert response.status_code == status
    assert_policies(response)


@pytest.mark.parametrize("path, status", [
    ("/", 200),
    ("/compliance/", 200),
    ("/admin/login/", 200),
    ("/no-such-page/", 404),
])
def test_the_platform_site_sends_both_policies(web_server, live_db, path, status):
    response = get(web_server, settings.BASE_DOMAIN, path)
    assert response.status_code == status
    assert_policies(response)


def test_a_host_with_no_workspace_gets_both_policies(web_server, live_db):
    response = get(web_server, f"nobody-here.{settings.BASE_DOMAIN}", "/")
    assert response.status_code == 404
    assert "No workspace here" in response.text
    assert_policies(response)


def test_a_suspended_clients_page_gets_both_policies(web_server, make_client):
    from tenants import services
    from tenants.models import Client

    result = make_client("csps")
    services.set_client_status(client=result.client, status=Client.Status.SUSPENDED)
    response = get(web_server, result.domain.domain, "/")
    assert response.status_code == 403
    assert_policies(response)


def test_a_form_sent_without_its_csrf_token_gets_our_page(web_server, client_host):
    response = httpx.post(f"http://127.0.0.1:{web_server.port}/accounts/login/",
                          headers={"Host": f"{client_host}:{web_server.port}"},
                          data={"username": "a@example.com", "password": "x"}, timeout=30)
    assert response.status_code == 403
    assert "Your form could not be sent" in response.text
    assert_policies(response)


def test_the_error_pages_have_no_inline_script_or_style(web_server, client_host):
    # What the policy would block must not be in the page in the first place.
    for path in ("/no-such-page/", "/accounts/login/"):
        html = get(web_server, client_host, path).text.lower()
        assert "<script>" not in html and "<style" not in html and " style=" not in html
