"""On a client's site, anonymous visitors reach only an explicit allow-list
(tenants/access.py); every other route of the tenant URLconf sends them to
the login page, and no client's live facts reach them."""

from __future__ import annotations

import pytest

from tenants.access import ANONYMOUS_ROUTES, SELF_AUTHENTICATING_ROUTES
from tests.support.doors import OPEN, ROUTES, SECRET, TOKEN, tenant_routes, url_for

ROUTE_LIST = tenant_routes()
# Labels of the live facts ("This workspace's data"), and the model the victim uses.
LIVE_FACTS = ["Tokens this month", "Stored conversations", "Last purge", "gpt-4o-mini"]


def test_every_route_of_the_tenant_urlconf_has_a_declared_rule():
    names = [route.name for route in ROUTE_LIST]
    assert len(names) == len(set(names)), "two routes share a name"
    undeclared = sorted(set(names) - ROUTES.keys())
    assert not undeclared, (f"routes without a rule: {undeclared}; declare who may open them "
                            "in tests/support/doors.py ROUTES")
    assert not sorted(ROUTES.keys() - set(names)), "ROUTES lists routes that no longer exist"


def test_the_allow_list_is_exactly_the_routes_declared_open():
    assert set(ANONYMOUS_ROUTES) == {name for name, rule in ROUTES.items() if rule.who == OPEN}
    assert set(ANONYMOUS_ROUTES) == {
        "login", "password_reset", "password_reset_done", "password_reset_confirm",
        "password_reset_complete", "compliance:overview", "healthz", "javascript-catalog",
        "sso:login", "sso:callback", "two_step:verify", "two_step:passkey-sign-in-options",
        "two_step:passkey-sign-in", "two_step:setup", "two_step:totp",
        "two_step:passkey-register-options", "two_step:passkey-register"}
    assert set(SELF_AUTHENTICATING_ROUTES) == {
        name for name, rule in ROUTES.items() if rule.who == TOKEN}


def _body(response) -> bytes:
    return (b"".join(response.streaming_content) if response.streaming
            else response.content)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("route", ROUTE_LIST, ids=lambda route: route.name)
def test_anonymous_visitor_is_sent_to_login_unless_the_route_is_allowed(
    route, method, world, live_db
):
    browser = world.browser(world.victim_host)
    url = url_for(route, world.ids)

    response = browser.generic(method, url, data="")

    body = _body(response)
    assert SECRET.encode() not in body
    for fact in LIVE_FACTS:
        assert fact.encode() not in body, f"{route.name} shows '{fact}' to anyone"
    if ROUTES[route.name].who == TOKEN:
        assert response.status_code in (401, 403), (route.name, response.status_code)
    elif ROUTES[route.name].who == OPEN:
        assert response.status_code < 500
        assert not response.get("Location", "").startswith("/accounts/login/?next=")
    else:
        assert response.status_code == 302, (route.name, response.status_code)
        assert response["Location"] == f"/accounts/login/?next={url}"


def test_the_public_overview_on_a_client_site_links_to_the_platform_pdf(world, live_db):
    from django.conf import settings

    browser = world.browser(world.victim_host)

    html = browser.get("/compliance/").content.decode()

    assert "Use for training" in html
    assert (f'href="http://{settings.BASE_DOMAIN}:{settings.SITE_PORT}/compliance/'
            'security-overview.pdf"') in html
    assert "own settings" not in html


def test_a_signed_in_member_gets_the_pdf_with_the_workspace_settings(world, live_db):
    browser = world.browser(world.victim_host, "victim@example.com")

    response = browser.get("/compliance/security-overview.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
