"""Signing in with a client's OpenID Connect provider (a real one: npm's
oidc-provider), accounts created just in time, roles from the groups claim."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.sso.models import ExternalIdentity
from tests.support.accounts import PASSWORD, signed_in_client
from tests.support.factories import MemberFactory
from tests.support.sso import employee, path_of, provider_sign_in


def sign_in(http, sso, login: str, *, next_url: str = ""):
    """Start at our sign-in link, sign in at the provider, come back; return our answer."""
    start = http.get("/sso/login/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.content[:500]
    back = provider_sign_in(start["Location"], login=login,
                            stop_at=f"http://{sso.domain}/sso/callback/")
    return http.get(path_of(back))


def test_login_page_offers_the_company_sign_in(make_sso_client, host_client):
    sso = make_sso_client()
    page = host_client(sso.domain).get("/accounts/login/?next=/c/1/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in with Acme ID" in html
    assert 'href="/sso/login/?next=/c/1/"' in html


def test_login_page_without_sso_shows_only_passwords(make_client, host_client):
    result = make_client("nosso")
    html = host_client(result.domain.domain).get("/accounts/login/").content.decode()
    assert "Sign in with" not in html
    assert host_client(result.domain.domain).get("/sso/login/").status_code == 404


def test_first_sign_in_creates_the_account_and_a_second_updates_role_and_profile(
        make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider, groups=["staff"])
    http = host_client(sso.domain)

    response = sign_in(http, sso, login, next_url="/privacy/")
    assert response.status_code == 302
    assert response["Location"] == "/privacy/"
    assert http.get("/").status_code == 200  # signed in: chat, not the login page
    with schema_context(sso.schema):
        user = User.objects.get(email=f"{login}@acme.example")
        assert (user.first_name, user.last_name, user.role) == ("Erin", "Employee", "member")
        assert not user.has_usable_password()
        identity = ExternalIdentity.objects.get(user=user)
        assert (identity.issuer, identity.subject) == (oidc_provider.issuer, login)

    # The directory puts them in the admin group and renames them.
    oidc_provider.set_account(login, email=f"{login}@acme.example", email_verified=True,
                              given_name="Erin", family_name="Admin",
                              groups=["staff", "chatbot-admins"])
    http2 = host_client(sso.domain)
    assert sign_in(http2, sso, login).status_code == 302
    with schema_context(sso.schema):
        user.refresh_from_db()
        assert (user.last_name, user.role) == ("Admin", "admin")
        assert User.objects.filter(email=f"{login}@acme.example").count() == 1
    assert http2.get("/sso/settings/").status_code == 200  # now a tenant admin

    # Out of the group again: a member at the next sign-in.
    oidc_provider.set_account(login, email=f"{login}@acme.example", email_verified=True,
                              groups=["staff"])
    assert sign_in(host_client(sso.domain), sso, login).status_code == 302
    with schema_context(sso.schema):
        user.refresh_from_db()
        assert user.role == "member"


def test_an_existing_member_is_linked_by_email(make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider)
    with schema_context(sso.schema):
        existing = MemberFactory(email=f"{login}@acme.example")
    assert sign_in(host_client(sso.domain), sso, login).status_code == 302
    with schema_context(sso.schema):
        assert ExternalIdentity.objects.get(subject=login).user_id == existing.pk
        assert User.objects.count() == 2  # the first admin and this member


def test_domain_not_allowed_is_refused_with_a_sentence(make_sso_client, host_client,
                                                      oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider, domain="elsewhere.example")
    response = sign_in(host_client(sso.domain), sso, login)
    assert response.status_code == 403
    html = response.content.decode()
    assert f"Your account {login}@elsewhere.example cannot sign in to this workspace" in html
    assert "acme.example" in html
    with schema_context(sso.schema):
        assert not User.objects.filter(email__endswith="@elsewhere.example").exists()

    # The tenant admin sees the details on the settings page.
    admin = signed_in_client(sso.domain)
    page = admin.get("/sso/settings/").content.decode()
    assert "Last sign-in problem" in page
    assert "the domain elsewhere.example is not in the allowed domains" in page


def test_a_deactivated_member_cannot_sign_in(make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider)
    with schema_context(sso.schema):
        MemberFactory(email=f"{login}@acme.example", password=None, is_active=False)
    response = sign_in(host_client(sso.domain), sso, login)
    assert response.status_code == 403
    assert "has been deactivated" in response.content.decode()


def test_unverified_email_is_refused(make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider)
    oidc_provider.set_account(login, email=f"{login}@acme.example", email_verified=False)
    response = sign_in(host_client(sso.domain), sso, login)
    assert response.status_code == 403
    assert "not verified" in response.content.decode()


def test_misconfigured_provider_is_a_sentence_and_a_detail_for_the_admin(
        make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider)
    from tenants.sso import services

    with schema_context(sso.schema):
        services.save_settings(values={}, client_secret="not-the-secret")
    response = sign_in(host_client(sso.domain), sso, login)
    assert response.status_code == 502
    html = response.content.decode()
    assert "sign-in service is not set up correctly" in html
    assert "invalid_client" not in html  # details are for the admin only
    assert "invalid_client" in sso.settings().last_error


def test_sso_only_members_cannot_use_a_password_but_the_break_glass_admin_can(
        make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    with schema_context(sso.schema):
        admin = User.objects.get(email="admin@example.com")
        MemberFactory(email="member@acme.example")
    from tenants.sso import services

    # Before "SSO only": one member signed in with a password, one through the provider.
    password_session = signed_in_client(sso.domain, "member@acme.example")
    sso_session = host_client(sso.domain)
    assert sign_in(sso_session, sso, employee(oidc_provider)).status_code == 302
    admin_session = signed_in_client(sso.domain)

    with schema_context(sso.schema):
        services.save_settings(values={"sso_only": True, "break_glass_user": admin})
    # Password sessions end, except the break-glass admin's; provider sessions stay.
    assert password_session.get("/").status_code == 302
    assert sso_session.get("/").status_code == 200
    assert admin_session.get("/").status_code == 200
    page = host_client(sso.domain).get("/accounts/login/").content.decode()
    assert "only for the emergency administrator" in page

    member = host_client(sso.domain).post("/accounts/login/", {
        "username": "member@acme.example", "password": PASSWORD})
    assert member.status_code == 200  # the form again, with its error
    assert "do not match" in member.content.decode()
    breakglass = host_client(sso.domain).post("/accounts/login/", {
        "username": "admin@example.com", "password": PASSWORD})
    assert breakglass.status_code == 302
