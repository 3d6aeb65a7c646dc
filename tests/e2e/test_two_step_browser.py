"""Two-step sign-in in a real Chromium against the real web server: a tenant
admin (asked by the production default) sets up an authenticator app with a
real code (pyotp) or a passkey (Chromium's virtual authenticator, through
Playwright's CDP session), then signs in again with it."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.members.models import User
from tenants.two_step.models import Passkey
from tests.support.accounts import ADMIN_EMAIL, LOGIN_PATH, PASSWORD
from tests.support.axe import axe_violations, blocking, describe

pytestmark = pytest.mark.browser


@pytest.fixture
def strict_site(make_client, web_server):
    result = make_client("twostep", second_factor="admins")
    return result, web_server.url(result.domain.domain)


def password_step(page, base_url: str) -> None:
    page.goto(base_url + LOGIN_PATH)
    page.fill("input[name=username]", ADMIN_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")


def accessible(page, name: str) -> None:
    """axe-core finds nothing serious on the page (as on every other page)."""
    violations = blocking(axe_violations(page))
    assert not violations, describe(name, violations)


def keep_codes_and_continue(page) -> list[str]:
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    accessible(page, "recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    page.click("#codes-continue")
    page.locator("#accept-notice").click()  # first-use data notice: now in the workspace
    expect(page.locator("#composer-text")).to_be_visible()
    return codes


def sign_out(page, base_url: str) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH)))


def test_authenticator_app_set_up_and_sign_in(strict_site, page, output_dir):
    result, base_url = strict_site
    password_step(page, base_url)
    expect(page).to_have_url(base_url + "/accounts/two-step/")
    expect(page.locator("main")).to_contain_text("Your workspace asks for a second step")
    page.screenshot(path=str(output_dir / "two-step-required.png"))
    accessible(page, "two-step set-up while signing in")

    page.click("#add-totp")
    expect(page.locator("main img")).to_be_visible()  # the QR code
    app = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.screenshot(path=str(output_dir / "two-step-authenticator-app.png"))
    accessible(page, "authenticator app")
    page.fill("input[name=code]", app.now())
    page.get_by_role("button", name="Confirm and add").click()
    codes = keep_codes_and_continue(page)
    assert len(set(codes)) == 10

    sign_out(page, base_url)
    password_step(page, base_url)
    expect(page).to_have_url(base_url + "/accounts/two-step/verify/")
    page.fill("input[name=code]", "000000" if app.now() != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main .error")).to_contain_text("That code is not right")
    accessible(page, "second step (code)")
    # The next period's code: the current one was used at set-up (no replays).
    page.fill("input[name=code]", app.at(time.time() + app.interval))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#composer-text")).to_be_visible()
    page.goto(base_url + "/accounts/two-step/")  # the person's own page, signed in
    expect(page.locator("main")).to_contain_text("10 unused recovery codes left.")
    expect(page.locator("main select[name=policy]")).to_have_value("admins")
    accessible(page, "two-step page of a tenant admin")
    assert page.js_errors == []


def test_passkey_set_up_and_sign_in(strict_site, page, output_dir):
    result, base_url = strict_site
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})["authenticatorId"]

    password_step(page, base_url)
    expect(page).to_have_url(base_url + "/accounts/two-step/")
    page.fill("input[name=name]", "Test laptop")
    page.click("#add-passkey")
    keep_codes_and_continue(page)
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email=ADMIN_EMAIL)
        assert list(Passkey.objects.filter(user=admin).values_list("name", flat=True)) == [
            "Test laptop"]

    sign_out(page, base_url)
    password_step(page, base_url)
    expect(page).to_have_url(base_url + "/accounts/two-step/verify/")
    page.screenshot(path=str(output_dir / "two-step-verify-passkey.png"))
    accessible(page, "second step (passkey)")
    page.click("#passkey-sign-in")
    expect(page.locator("#composer-text")).to_be_visible()
    with schema_context(result.client.schema_name):
        assert Passkey.objects.get(user=admin).last_used is not None

    # Without the authenticator, the passkey cannot be used: the page says so.
    sign_out(page, base_url)
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})
    password_step(page, base_url)
    page.click("#passkey-sign-in")
    expect(page.locator("#passkey-error")).to_be_visible(timeout=15_000)
    expect(page).to_have_url(base_url + "/accounts/two-step/verify/")
    assert page.js_errors == []
