"""An employee of a client with single sign-on signs in in a real Chromium:
through the provider's own login page (npm's oidc-provider) and the real web
server, lands in chat with an account made on the spot; a second sign-in
gives them the role their groups now say."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.members.models import User
from tests.support.sso import (  # noqa: F401 - fixtures
    employee,
    make_sso_client,
    oidc_provider,
    provider_keys,
)

pytestmark = pytest.mark.browser


def sign_in_with_company(page, base_url: str, *, login: str, provider_issuer: str,
                         screenshots=None) -> None:
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    if screenshots:
        page.screenshot(path=str(screenshots / "sso-login-page.png"))
    page.get_by_role("link", name="Sign in with Acme ID").click()
    # The provider's own login page, on the provider's host.
    expect(page).to_have_url(re.compile("^" + re.escape(provider_issuer) + "/interaction/"))
    if screenshots:
        page.screenshot(path=str(screenshots / "sso-provider-login-page.png"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password the test provider accepts")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile("^" + re.escape(base_url) + "/"))


def test_employee_signs_in_through_the_provider_and_lands_in_chat(
        browser, make_sso_client, oidc_provider, web_server, output_dir):  # noqa: F811
    sso = make_sso_client("e2esso", port=web_server.port)
    base_url = web_server.url(sso.domain)
    login = employee(oidc_provider, groups=["staff"])
    email = f"{login}@acme.example"

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_with_company(page, base_url, login=login, provider_issuer=oidc_provider.issuer,
                         screenshots=output_dir)
    page.get_by_role("button", name="I understand").click()  # first-use data notice
    expect(page.locator("#composer-text")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text(email)
    expect(page.locator(".topbar")).not_to_contain_text("Bot settings")
    page.screenshot(path=str(output_dir / "sso-member-in-chat.png"))
    context.close()
    with schema_context(sso.schema):
        user = User.objects.get(email=email)
        assert user.role == User.Role.MEMBER and user.first_name == "Erin"

    # The directory adds them to the admin group: the next sign-in makes them admin.
    oidc_provider.set_account(login, email=email, email_verified=True, given_name="Erin",
                              family_name="Employee", groups=["staff", "chatbot-admins"])
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_with_company(page, base_url, login=login, provider_issuer=oidc_provider.issuer)
    expect(page.locator(".topbar")).to_contain_text("Bot settings")
    page.get_by_role("link", name="Single sign-on").click()
    expect(page.locator("#sso-callback-url")).to_have_text(f"{base_url}/sso/callback/")
    page.screenshot(path=str(output_dir / "sso-settings-as-admin.png"), full_page=True)
    context.close()
    with schema_context(sso.schema):
        user.refresh_from_db()
        assert user.role == User.Role.ADMIN
        assert User.objects.filter(email=email).count() == 1
    assert errors == []
