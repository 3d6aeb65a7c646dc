"""Accounts in tests: the one password, and signing in the three ways tests
reach a site (Django's test client, httpx against the live server, a
Playwright page).

`make_client` (tests/conftest.py) creates every client with ADMIN_EMAIL as its first
tenant admin, whose password is PASSWORD; members made by the factories
(tests/support/factories.py) have the same password unless a test says otherwise.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from django.test import Client as HttpClient

from tests.support.site import Site

if TYPE_CHECKING:
    from tenants.members.models import User

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@example.com"  # the first tenant admin of every client make_client creates
LOGIN_PATH = "/accounts/login/"


def host_of(where: Any) -> str:
    """A client's host: given as a host name, or a ProvisionedClient (make_client's result)."""
    return where if isinstance(where, str) else where.domain.domain


# --- Django's test client (in-process) ---------------------------------------------------

def log_in_client(http: HttpClient, email: str = ADMIN_EMAIL,
                  password: str = PASSWORD) -> HttpClient:
    """Sign in with the login form (as a person does, axes and all); returns the client."""
    response = http.post(LOGIN_PATH, {"username": email, "password": password})
    assert response.status_code == 302, f"{email} could not sign in ({response.status_code})"
    assert not response["Location"].startswith("/accounts/two-step/"), (
        f"{email} is asked for a second factor ({response['Location']})")
    return http


def signed_in_client(where: Any, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> HttpClient:
    """A Django test client on a client's site (host name or ProvisionedClient), signed in."""
    return log_in_client(HttpClient(HTTP_HOST=host_of(where)), email, password)


# --- httpx against the live web server ---------------------------------------------------

def signed_in_site(server: Any, where: Any, email: str = ADMIN_EMAIL,
                   password: str = PASSWORD) -> Site:
    """A Site on the live server (a WebServer) for a client's host, signed in."""
    return Site(server.url(host_of(where))).login(email, password)


# --- Playwright ----------------------------------------------------------------------------

def log_in_page(page: Any, base_url: str, email: str = ADMIN_EMAIL, *, password: str = PASSWORD,
                notice_button: str | None = None, accept_notice: bool = True,
                start: str = LOGIN_PATH) -> None:
    """Sign in on a Playwright page and accept the first-use data notice.

    start: where the page goes first ("/" checks the redirect to the sign-in
    page); notice_button: the notice button's text in the member's language
    (default: the button found by its id, whatever the language);
    accept_notice=False: leave the notice (already accepted, or the test reads it).
    """
    from playwright.sync_api import expect

    page.goto(base_url + start)
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH)))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    expect(page).not_to_have_url(re.compile(re.escape(LOGIN_PATH)))
    if not accept_notice:
        return
    notice = (page.get_by_role("button", name=notice_button) if notice_button
              else page.locator("#accept-notice"))
    expect(notice).to_be_visible()
    notice.click()
    expect(page.locator("#data-notice")).to_have_count(0)


def log_in_admin_page(page: Any, base_url: str, email: str,
                      password: str = PASSWORD) -> None:
    """Sign in to the platform's Django admin on a Playwright page."""
    from playwright.sync_api import expect

    page.goto(base_url + "/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/admin/login/"))


# --- Platform staff ------------------------------------------------------------------------

def make_staff(email: str | None = None, password: str = PASSWORD) -> User:
    """A platform staff account (superuser in the public schema); see the `staff` fixture."""
    from django_tenants.utils import schema_context

    from tenants.members.models import User

    with schema_context("public"):
        return User.objects.create_superuser(
            email or f"staff-{uuid.uuid4().hex[:8]}@tuneaibot.local", password)


def erase_staff(user: User) -> None:
    """Remove a staff account and what it left in the public schema."""
    from axes.models import AccessAttempt
    from django.contrib.admin.models import LogEntry
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import schema_context

    from tenants.members.models import User
    from tenants.two_step.models import Passkey, RememberedBrowser

    with schema_context("public"):
        # Its failed attempts would count against the test address in later tests.
        AccessAttempt.objects.filter(username=user.email).delete()
        LogEntry.objects.filter(user_id=user.pk).delete()
        # Their second factors (tenants.two_step), which the raw delete would not reach.
        for model in (TOTPDevice, StaticDevice, Passkey, RememberedBrowser):
            model.objects.filter(user_id=user.pk).delete()
        # Not .delete(): its cascade would look for chat tables, absent on the platform.
        User.objects.filter(pk=user.pk)._raw_delete("default")
