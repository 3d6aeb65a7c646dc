"""Two-step sign-in with real authenticator-app codes (pyotp computes them from
the secret the setup page shows), recovery codes, remembered browsers, resets,
the client's policy and django-axes counting wrong codes."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.models import Client
from tenants.two_step.models import RememberedBrowser, SecondFactorEvent
from tests.support.accounts import ADMIN_EMAIL, LOGIN_PATH, PASSWORD, signed_in_client
from tests.support.factories import MemberFactory

SETUP = "/accounts/two-step/"
VERIFY = "/accounts/two-step/verify/"
TOTP = "/accounts/two-step/authenticator-app/"


def password_step(http: HttpClient, email: str = ADMIN_EMAIL) -> str:
    response = http.post(LOGIN_PATH, {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return response["Location"]


def signed_in(http: HttpClient) -> bool:
    return http.get("/").status_code == 200


def enrol_app(http: HttpClient) -> tuple[pyotp.TOTP, list[str]]:
    """Set up an authenticator app as a person does; returns it and the recovery codes."""
    page = http.get(TOTP).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert "data:image/svg+xml" in page  # the QR code, drawn on the server
    app = pyotp.TOTP(secret)
    response = http.post(TOTP, {"code": app.now()})
    assert response.status_code == 302
    codes_page = http.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", codes_page)
    return app, codes


def next_code(app: pyotp.TOTP) -> str:
    # django-otp refuses a code used twice (replay); it accepts the next period's (clock drift).
    return app.at(time.time() + app.interval)


@pytest.fixture
def strict_client(make_client):
    """A client with the production default: tenant admins must use a second factor."""
    return make_client(second_factor=Client.SecondFactor.ADMINS)


def test_a_new_client_requires_it_of_its_tenant_admins(live_db):
    from tenants import services

    result = services.create_client(name="Default Co", slug="default-2fa-co",
                                    admin_email="a@default.example")
    try:
        assert result.client.second_factor == Client.SecondFactor.ADMINS
        assert Client.objects.get(pk=result.client.pk).second_factor == "admins"
    finally:
        services.delete_client(client=result.client)


def test_tenant_admin_sets_up_an_app_then_signs_in_with_its_codes(strict_client, host_client):
    http = host_client(strict_client.domain.domain)

    # The password alone does not sign in: it leads to setting up a second factor.
    assert password_step(http) == SETUP
    assert not signed_in(http)
    app, codes = enrol_app(http)
    assert len(codes) == 10
    assert signed_in(http)  # setting it up finished the sign-in

    # Next time: password, then a code from the app.
    other = host_client(strict_client.domain.domain)
    assert password_step(other) == VERIFY
    assert not signed_in(other)
    wrong = other.post(VERIFY, {"code": "000000" if next_code(app) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    right = other.post(VERIFY, {"code": next_code(app)})
    assert right.status_code == 302 and right["Location"] == "/"
    assert signed_in(other)
    with schema_context(strict_client.client.schema_name):
        actions = set(SecondFactorEvent.objects.values_list("action", flat=True))
    assert {"totp_added", "recovery_codes"} <= actions


def test_a_recovery_code_works_once(strict_client, host_client):
    http = host_client(strict_client.domain.domain)
    password_step(http)
    _app, codes = enrol_app(http)

    first = host_client(strict_client.domain.domain)
    password_step(first)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert signed_in(first)

    second = host_client(strict_client.domain.domain)
    password_step(second)
    assert second.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert not signed_in(second)


def test_members_are_not_asked_unless_the_client_asks_everyone(strict_client, host_client):
    with schema_context(strict_client.client.schema_name):
        MemberFactory(email="worker@example.com")
    http = host_client(strict_client.domain.domain)
    assert password_step(http, "worker@example.com") == "/"

    # The tenant admin (after their own second step) asks everyone.
    owner = host_client(strict_client.domain.domain)
    password_step(owner)
    enrol_app(owner)
    assert owner.post(f"{SETUP}policy/", {"policy": "everyone"}).status_code == 302
    assert Client.objects.get(pk=strict_client.client.pk).second_factor == "everyone"

    again = host_client(strict_client.domain.domain)
    assert password_step(again, "worker@example.com") == SETUP
    assert not signed_in(again)
    with schema_context(strict_client.client.schema_name):
        assert SecondFactorEvent.objects.filter(action="policy", actor=ADMIN_EMAIL).exists()


def test_wrong_codes_are_counted_by_axes_and_pause_the_account(strict_client, host_client,
                                                               settings):
    http = host_client(strict_client.domain.domain)
    password_step(http)
    app, _codes = enrol_app(http)

    attacker = host_client(strict_client.domain.domain)
    password_step(attacker)
    statuses = [attacker.post(VERIFY, {"code": "12345" + str(i)}).status_code
                for i in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[:-1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429
    # Even the right code is refused while the account is paused, and so is the password.
    assert attacker.post(VERIFY, {"code": next_code(app)}).status_code == 429
    assert not signed_in(attacker)
    fresh = host_client(strict_client.domain.domain)
    assert fresh.post(LOGIN_PATH, {"username": ADMIN_EMAIL,
                                   "password": PASSWORD}).status_code == 429


def test_remembered_browser_skips_the_second_step_until_reset(strict_client, host_client):
    http = host_client(strict_client.domain.domain)
    password_step(http)
    app, _codes = enrol_app(http)
    browser = host_client(strict_client.domain.domain)
    password_step(browser)
    response = browser.post(VERIFY, {"code": next_code(app), "remember": "1"})
    cookie = response.cookies["two_step_remember"]
    assert cookie["httponly"] and 0 < int(cookie["max-age"]) <= 90 * 86400
    browser.post("/accounts/logout/")
    assert not signed_in(browser)

    assert password_step(browser) == "/"  # remembered: no second step
    assert signed_in(browser)
    stranger = host_client(strict_client.domain.domain)
    stranger.cookies["two_step_remember"] = "guessed-" + cookie.value[8:]
    assert password_step(stranger) == VERIFY

    # Resetting the factors forgets the remembered browsers too.
    with schema_context(strict_client.client.schema_name):
        from tenants.two_step import services

        services.reset(user=User.objects.get(email=ADMIN_EMAIL), actor="test")
        assert not RememberedBrowser.objects.exists()
    browser.post("/accounts/logout/")
    assert password_step(browser) == SETUP


def test_tenant_admin_resets_a_members_factors_and_it_is_recorded(strict_client, host_client):
    with schema_context(strict_client.client.schema_name):
        worker = MemberFactory(email="worker@example.com")
    member = signed_in_client(strict_client, "worker@example.com")  # not asked: a member
    _app, _codes = enrol_app(member)
    later = host_client(strict_client.domain.domain)
    assert password_step(later, "worker@example.com") == VERIFY  # has a factor: asked

    owner = host_client(strict_client.domain.domain)
    password_step(owner)
    enrol_app(owner)
    members_page = owner.get("/accounts/members/").content.decode()
    assert f"/accounts/two-step/members/{worker.pk}/reset/" in members_page
    assert owner.post(f"/accounts/two-step/members/{worker.pk}/reset/").status_code == 302

    again = host_client(strict_client.domain.domain)
    assert password_step(again, "worker@example.com") == "/"
    with schema_context(strict_client.client.schema_name):
        event = SecondFactorEvent.objects.get(action="reset")
    assert (event.actor, event.subject) == (ADMIN_EMAIL, "worker@example.com")

    # A member cannot reset anyone.
    assert member.post(f"/accounts/two-step/members/{worker.pk}/reset/").status_code in (302, 403)


def test_staff_reset_a_tenant_admin_from_the_platform_admin(strict_client, host_client, staff):
    owner = host_client(strict_client.domain.domain)
    password_step(owner)
    enrol_app(owner)
    with schema_context(strict_client.client.schema_name):
        admin_pk = User.objects.get(email=ADMIN_EMAIL).pk
    platform = HttpClient(HTTP_HOST="localhost")
    signed = platform.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert signed.status_code == 302  # no second step asked of staff over plain HTTP
    url = f"/admin/tenants/client/{strict_client.client.pk}/two-step/"
    page = platform.get(url)
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    assert ADMIN_EMAIL in page.content.decode()

    assert platform.post(url, {"user": str(admin_pk)}).status_code == 302

    again = host_client(strict_client.domain.domain)
    assert password_step(again) == SETUP  # required, and nothing set up any more
    with schema_context(strict_client.client.schema_name):
        event = SecondFactorEvent.objects.get(action="reset")
    assert event.subject == ADMIN_EMAIL and staff.email in event.actor


def test_last_factor_cannot_be_removed_while_required(strict_client, host_client):
    http = host_client(strict_client.domain.domain)
    password_step(http)
    enrol_app(http)
    with schema_context(strict_client.client.schema_name):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.get()
    response = http.post(f"{SETUP}remove/totp/{device.pk}/", follow=True)
    assert "requires two-step sign-in" in response.content.decode()
    with schema_context(strict_client.client.schema_name):
        assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_second_step_expires(strict_client, host_client, settings):
    http = host_client(strict_client.domain.domain)
    password_step(http)
    app, _codes = enrol_app(http)
    late = host_client(strict_client.domain.domain)
    password_step(late)
    settings.TWO_STEP_PENDING_SECONDS = 0
    time.sleep(0.01)
    response = late.post(VERIFY, {"code": next_code(app)})
    assert response.status_code == 302 and response["Location"] == LOGIN_PATH
    assert not signed_in(late)


def test_platform_staff_must_use_it_when_served_over_https(live_db, staff):
    with override_settings(TWO_STEP_REQUIRED_FOR_STAFF=True):
        platform = HttpClient(HTTP_HOST="localhost")
        response = platform.post("/admin/login/?next=/admin/",
                                 {"username": staff.email, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == SETUP
        assert platform.get("/admin/").status_code == 302  # not signed in yet
        app, codes = enrol_app(platform)
        assert platform.get("/admin/").status_code == 200
    assert codes


def test_staff_requirement_follows_https():
    import subprocess
    import sys

    script = ("import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
              "from django.conf import settings;print(settings.TWO_STEP_REQUIRED_FOR_STAFF)")
    import os

    for https, expected in (("true", "True"), ("false", "False")):
        env = {**os.environ, "HTTPS": https, "TWO_STEP_REQUIRED_FOR_STAFF": "false"}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected


def test_the_demo_client_asks_no_second_step_and_the_banner_says_so(
        live_db, settings, monkeypatch, tmp_path, capsys):
    from django.db import connection

    from devtools.demo import DEMO_SLUG, ensure_demo
    from devtools.runner import _print_banner
    from tenants import services

    monkeypatch.delenv("TUNEAIBOT_EPHEMERAL_SERVICES", raising=False)
    monkeypatch.setenv("TUNEAIBOT_DATA_DIR", str(tmp_path))
    staff_before = set(User.objects.values_list("pk", flat=True))
    try:
        credentials = ensure_demo()
        demo = Client.objects.get(slug=DEMO_SLUG)
        assert demo.second_factor == Client.SecondFactor.OFF
        # A demo made before this feature got "admins" from the migration: a
        # start turns it off again (no tenant admin chose otherwise).
        Client.objects.filter(pk=demo.pk).update(second_factor="admins")
        credentials = ensure_demo()
        assert Client.objects.get(pk=demo.pk).second_factor == Client.SecondFactor.OFF
        http = HttpClient(HTTP_HOST=demo.domains.get().domain)
        response = http.post(LOGIN_PATH, {"username": credentials.admin_email,
                                          "password": credentials.admin_password})
        assert response.status_code == 302 and response["Location"] == "/"
    finally:
        connection.set_schema_to_public()
        for client in Client.objects.filter(slug=DEMO_SLUG):
            services.delete_client(client=client)
        added = list(User.objects.exclude(pk__in=staff_before).values_list("pk", flat=True))
        if added:  # the platform's staff login it made (no chat tables in public)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = ANY(%s)",
                               [added])
    _print_banner(8000, credentials, "offline")
    assert "two-step sign-in is off for this demo client" in capsys.readouterr().out


def test_a_password_alone_cannot_add_a_factor_to_an_account_that_has_one(strict_client,
                                                                         host_client):
    owner = host_client(strict_client.domain.domain)
    password_step(owner)
    enrol_app(owner)

    attacker = host_client(strict_client.domain.domain)
    assert password_step(attacker) == VERIFY
    assert attacker.get(TOTP)["Location"] == LOGIN_PATH
    assert attacker.get(SETUP)["Location"] == LOGIN_PATH
    assert attacker.post(f"{SETUP}passkey/register/options/").status_code == 403
    assert attacker.post(f"{SETUP}passkey/register/", data="{}",
                         content_type="application/json").status_code == 403
    assert not signed_in(attacker)
    with schema_context(strict_client.client.schema_name):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        assert TOTPDevice.objects.count() == 1
