"""Sign-in throttling (django-axes) per account and per address, per client; unlocking;
password reset limits. All through the real web server."""

import re
import uuid

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from tenants.members.models import User
from tests.security.auth.conftest import admin_login, platform_site, try_login
from tests.support.accounts import PASSWORD, signed_in_site
from tests.support.factories import MemberFactory
from tests.support.site import Site

ACCOUNT_LIMIT = settings.AXES_FAILURE_LIMIT
ADDRESS_LIMIT = settings.LOGIN_FAILURES_PER_ADDRESS
MINUTES = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def fail_logins(site: Site, email: str, times: int, **kwargs) -> None:
    for _ in range(times):
        response = try_login(site, email, "not the password", **kwargs)
        assert response.status_code in (200, 429), response.status_code


def signed_in(site: Site) -> bool:
    return site.http.get("/").status_code == 200


def test_right_password_after_too_many_wrong_ones_is_refused_and_says_how_long(
        make_client, web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    fail_logins(site, "admin@example.com", ACCOUNT_LIMIT)
    response = try_login(site, "admin@example.com", PASSWORD)

    assert response.status_code == 429
    assert (f"Too many failed sign-in attempts for this account. Signing in to it is paused "
            f"for {MINUTES} more minutes.") in response.text
    assert 0 < int(response.headers["Retry-After"]) <= MINUTES * 60
    assert not signed_in(site)


def test_fewer_failures_than_the_limit_do_not_lock(make_client, web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    fail_logins(site, "admin@example.com", ACCOUNT_LIMIT - 1)

    assert try_login(site, "admin@example.com", PASSWORD).status_code == 302


def test_case_and_spaces_do_not_make_a_fresh_account_to_guess(make_client, web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))
    spellings = ["admin@example.com", "ADMIN@example.com", " Admin@Example.COM "]

    for n in range(ACCOUNT_LIMIT):
        try_login(site, spellings[n % len(spellings)], "not the password")

    assert try_login(site, "aDmIn@example.com", PASSWORD).status_code == 429


def test_lockout_on_one_client_never_touches_the_same_email_on_another(make_client,
                                                                       web_server):
    a, b = make_client("a"), make_client("b")  # both have admin@example.com
    site_a = Site(web_server.url(a.domain.domain))
    site_b = Site(web_server.url(b.domain.domain))

    fail_logins(site_a, "admin@example.com", ACCOUNT_LIMIT)

    assert try_login(site_a, "admin@example.com", PASSWORD).status_code == 429
    assert try_login(site_b, "admin@example.com", PASSWORD).status_code == 302
    with schema_context(b.client.schema_name):
        from axes.models import AccessAttempt

        assert not AccessAttempt.objects.exists()


def test_one_address_guessing_many_accounts_is_paused_but_others_are_not(make_client,
                                                                          web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    for n in range(ADDRESS_LIMIT):
        try_login(site, f"guess{n}@example.com", "not the password", forwarded_for="203.0.113.7")
    refused = try_login(site, "admin@example.com", PASSWORD, forwarded_for="203.0.113.7")
    elsewhere = try_login(Site(web_server.url(result.domain.domain)), "admin@example.com",
                          PASSWORD, forwarded_for="198.51.100.20")

    assert refused.status_code == 429
    assert "Too many failed sign-in attempts from your network address" in refused.text
    assert elsewhere.status_code == 302


def test_platform_admin_login_is_throttled_too(staff, web_server):
    site = platform_site(web_server)
    answers = [admin_login(site, staff.email, "not the password").status_code
               for _ in range(ACCOUNT_LIMIT)]
    assert answers == [200] * (ACCOUNT_LIMIT - 1) + [429]  # the failure that reaches the limit

    response = admin_login(site, staff.email, PASSWORD)

    assert response.status_code == 429
    assert f"paused for {MINUTES} more minutes" in response.text
    assert site.http.get("/admin/").status_code == 302  # still to the login page


def test_tenant_admin_unlocks_a_member_on_the_members_page(make_client, web_server):
    result = make_client()
    with schema_context(result.client.schema_name):
        member = MemberFactory(email="worker@example.com")
    member_site = Site(web_server.url(result.domain.domain))
    fail_logins(member_site, "Worker@Example.com", ACCOUNT_LIMIT)
    assert try_login(member_site, "worker@example.com", PASSWORD).status_code == 429

    admin = signed_in_site(web_server, result)
    page = admin.http.get("/accounts/members/")
    assert "Sign-in paused after too many failed attempts" in page.text
    assert f"/accounts/members/{member.pk}/unlock/" in page.text
    response = admin.post(f"/accounts/members/{member.pk}/unlock/")
    assert response.status_code == 302
    after = admin.http.get("/accounts/members/")
    assert "worker@example.com can sign in again" in after.text
    assert "Sign-in paused" not in after.text

    assert try_login(member_site, "worker@example.com", PASSWORD).status_code == 302


def test_members_cannot_unlock(make_client, web_server):
    result = make_client()
    with schema_context(result.client.schema_name):
        MemberFactory(email="worker@example.com")
        admin_pk = User.objects.get(email="admin@example.com").pk
    member = signed_in_site(web_server, result, "worker@example.com")

    assert member.post(f"/accounts/members/{admin_pk}/unlock/").status_code == 403


def test_staff_unlock_an_account_and_an_address_of_any_client(make_client, staff, web_server):
    result = make_client()
    client_site = Site(web_server.url(result.domain.domain))
    fail_logins(client_site, "admin@example.com", ACCOUNT_LIMIT)
    for n in range(ADDRESS_LIMIT):
        try_login(client_site, f"guess{n}@example.com", "x", forwarded_for="203.0.113.9")

    platform = platform_site(web_server)
    assert admin_login(platform, staff.email, PASSWORD).status_code == 302
    change = platform.http.get(f"/admin/tenants/client/{result.client.pk}/change/")
    assert "1 account, 1 network address paused now" in change.text
    page_url = f"/admin/tenants/client/{result.client.pk}/sign-in-lockouts/"
    page = platform.http.get(page_url)
    assert page.status_code == 200
    assert "admin@example.com" in page.text and "203.0.113.9" in page.text

    token = platform.http.cookies["csrftoken"]
    for field, value in (("email", "admin@example.com"), ("ip_address", "203.0.113.9")):
        response = platform.http.post(page_url, data={field: value,
                                                      "csrfmiddlewaretoken": token})
        assert response.status_code == 302

    assert "No account is paused." in platform.http.get(page_url).text
    # Staff accounts' own attempts (public schema): django-axes' admin pages.
    assert platform.http.get("/admin/axes/accessattempt/").status_code == 200
    assert try_login(client_site, "admin@example.com", PASSWORD).status_code == 302
    assert try_login(Site(web_server.url(result.domain.domain)), "admin@example.com", PASSWORD,
                     forwarded_for="203.0.113.9").status_code == 302


def test_client_admins_cannot_reach_the_platform_unlock_page(make_client, web_server):
    result = make_client()
    site = signed_in_site(web_server, result)

    response = site.http.get(f"/admin/tenants/client/{result.client.pk}/sign-in-lockouts/")

    assert response.status_code == 404


# --- Password reset requests -------------------------------------------------------

def ask_reset(site: Site, email: str, **headers):
    return site.http.post("/accounts/password/reset/", headers=headers, data={
        "email": email, "csrfmiddlewaretoken": site.csrf()})


def reset_limit(rate: str) -> int:
    return int(rate.split("/")[0])


@pytest.mark.parametrize("email", ["admin@example.com", "nobody@example.com"])
def test_reset_requests_per_email_are_limited_alike_for_known_and_unknown(
        make_client, web_server, email):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))
    limit = reset_limit(settings.PASSWORD_RESET_RATE_PER_EMAIL)

    answers = [ask_reset(site, email if n % 2 else email.upper()).status_code
               for n in range(limit)]
    refused = ask_reset(site, email)

    assert answers == [302] * limit  # the same "check your email" page, account or not
    assert refused.status_code == 429
    assert "Too many password reset requests. Try again in" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    # Another e-mail from the same address is still served.
    assert ask_reset(site, f"other-{uuid.uuid4().hex[:6]}@example.com").status_code == 302


def test_reset_requests_per_address_are_limited(make_client, web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))
    limit = reset_limit(settings.PASSWORD_RESET_RATE_PER_ADDRESS)

    for n in range(limit):
        assert ask_reset(site, f"p{n}@example.com",
                         **{"X-Forwarded-For": "203.0.113.50"}).status_code == 302
    refused = ask_reset(site, "admin@example.com", **{"X-Forwarded-For": "203.0.113.50"})
    elsewhere = ask_reset(site, "admin@example.com", **{"X-Forwarded-For": "198.51.100.50"})

    assert refused.status_code == 429
    assert elsewhere.status_code == 302


def test_a_lockout_tells_nothing_about_whether_the_account_exists(make_client, web_server):
    result = make_client()
    known, unknown = (Site(web_server.url(result.domain.domain)) for _ in range(2))

    fail_logins(known, "admin@example.com", ACCOUNT_LIMIT)
    fail_logins(unknown, "nobody@example.com", ACCOUNT_LIMIT)
    pages = [try_login(site, email, PASSWORD)
             for site, email in ((known, "admin@example.com"), (unknown, "nobody@example.com"))]

    assert [p.status_code for p in pages] == [429, 429]
    content = [re.search(r"<main.*</main>", p.text, re.S).group(0) for p in pages]
    assert "Signing in to it is paused" in content[0]
    assert content[0] == content[1]
