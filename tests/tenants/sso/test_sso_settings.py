"""The tenant admin's single sign-on page: provider settings checked against the
real provider, the client secret encrypted and never shown, the SCIM token shown
once; and the sign-in answers a person may meet."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.sso import selectors
from tests.support.accounts import signed_in_client
from tests.support.factories import AdminFactory, MemberFactory
from tests.support.sso import employee, path_of, provider_sign_in

SECRET = "s3cret-value-from-the-provider-9Zq7"


def form(**overrides) -> dict:
    data = {"enabled": "on", "company_label": "Globex", "issuer": "", "client_id": "globex-app",
            "client_secret": SECRET, "scopes": "email profile",
            "allowed_domains": "globex.example\n@Globex.co.uk", "groups_claim": "groups",
            "admin_group": "", "break_glass_user": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_only_tenant_admins_open_the_page(make_client, host_client):
    result = make_client("ssoset")
    domain = result.domain.domain
    with schema_context(result.client.schema_name):
        MemberFactory(email="member@example.com")
    anonymous = host_client(domain).get("/sso/settings/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    member = signed_in_client(domain, "member@example.com")
    assert member.get("/sso/settings/").status_code == 403
    assert member.post("/sso/settings/scim-token/").status_code == 403
    page = signed_in_client(domain).get("/sso/settings/")
    assert page.status_code == 200
    # The callback is on this client's own host.
    assert f"http://{domain}/sso/callback/" in page.content.decode()


def test_save_checks_the_provider_and_encrypts_the_secret(make_client, host_client,
                                                          oidc_provider):
    result = make_client("ssoset")
    browser = signed_in_client(result)

    unreachable = browser.post("/sso/settings/", form(issuer="http://127.0.0.1:9/nothing"))
    assert unreachable.status_code == 200
    assert "The provider could not be checked" in unreachable.content.decode()
    wrong_name = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer + "/"))
    assert "use exactly the issuer it names" in wrong_name.content.decode()
    no_domain = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer,
                                                    allowed_domains="not a domain"))
    assert "is not a domain name" in no_domain.content.decode()

    saved = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with schema_context(result.client.schema_name):
        config = selectors.get_settings()
        assert config.is_ready and config.domains == ["globex.example", "globex.co.uk"]
        assert config.scopes == "openid email profile"
        assert SECRET not in config.client_secret_encrypted
        assert config.client_secret_last4 == "9Zq7"
    page = browser.get("/sso/settings/").content.decode()
    assert SECRET not in page and "…9Zq7" in page

    # Saving again without a secret keeps the stored one.
    assert browser.post("/sso/settings/", form(issuer=oidc_provider.issuer,
                                               client_secret="")).status_code == 302
    with schema_context(result.client.schema_name):
        from core import secrets

        assert secrets.decrypt(selectors.get_settings().client_secret_encrypted) == SECRET
    # The login page now offers the company sign-in.
    assert "Sign in with Globex" in host_client(result.domain.domain).get(
        "/accounts/login/").content.decode()


def test_sso_only_needs_a_break_glass_admin(make_client, host_client, oidc_provider):
    result = make_client("ssoset")
    browser = signed_in_client(result)
    response = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer, sso_only="on"))
    assert response.status_code == 200
    assert "Choose a break-glass administrator" in response.content.decode()
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        sso_member = AdminFactory(email="sso@globex.example", password=None)
    # Only admins with a password may be chosen.
    refused = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer, sso_only="on",
                                                  break_glass_user=str(sso_member.pk)))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    ok = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer, sso_only="on",
                                             break_glass_user=str(admin.pk)))
    assert ok.status_code == 302
    with schema_context(result.client.schema_name):
        assert selectors.get_settings().sso_only


def test_scim_token_is_shown_once(make_client, host_client):
    result = make_client("ssoset")
    browser = signed_in_client(result)
    made = browser.post("/sso/settings/scim-token/", {"action": "rotate"})
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    token = re.search(r'<code id="scim-token">([^<]+)</code>', made.content.decode()).group(1)
    assert host_client(result.domain.domain).get(
        "/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    later = browser.get("/sso/settings/").content.decode()
    assert token not in later and f"…{token[-4:]}" in later
    with schema_context(result.client.schema_name):
        assert token not in selectors.get_settings().scim_token_sha256


def test_provider_error_answers_are_sentences(make_sso_client, host_client, oidc_provider):
    sso = make_sso_client()
    browser = host_client(sso.domain)
    state = parse_qs(urlsplit(browser.get("/sso/login/")["Location"]).query)["state"][0]
    denied = browser.get("/sso/callback/?" + urlencode({
        "state": state, "error": "access_denied", "error_description": "user not assigned"}))
    assert denied.status_code == 403
    assert "did not let you in" in denied.content.decode()
    assert "user not assigned" in sso.settings().last_error
    # No state at all (a bookmarked callback).
    assert browser.get("/sso/callback/").status_code == 400
    # The member signs in fine afterwards.
    login = employee(oidc_provider)

    back = provider_sign_in(browser.get("/sso/login/")["Location"], login=login,
                            stop_at=f"http://{sso.domain}/sso/callback/")
    assert browser.get(path_of(back)).status_code == 302


def test_the_only_admin_is_not_demoted_by_the_groups_claim(make_sso_client, host_client,
                                                          oidc_provider):
    sso = make_sso_client()
    login = employee(oidc_provider, groups=["chatbot-admins"])
    with schema_context(sso.schema):
        User.objects.filter(email="admin@example.com").update(is_active=False)

    def sign_in():
        browser = host_client(sso.domain)
        back = provider_sign_in(browser.get("/sso/login/")["Location"], login=login,
                                stop_at=f"http://{sso.domain}/sso/callback/")
        assert browser.get(path_of(back)).status_code == 302

    sign_in()
    oidc_provider.set_account(login, email=f"{login}@acme.example", groups=["staff"])
    sign_in()
    with schema_context(sso.schema):
        assert User.objects.get(email=f"{login}@acme.example").role == "admin"
    assert "stays tenant admin" in sso.settings().last_error


def test_a_provider_on_an_internal_address_is_refused_outside_development(
        make_client, host_client, oidc_provider, make_sso_client):
    """The provider is chosen by a tenant admin: like a model endpoint, it must
    not make the server call loopback, private or metadata addresses."""
    from django.test import override_settings

    from tenants.sso import oidc

    result = make_client("ssopriv")
    browser = signed_in_client(result)
    configured = make_sso_client("ssopriv2")  # saved while local providers were allowed

    with override_settings(SSO_ALLOW_PRIVATE_ISSUERS=False, MODEL_ENDPOINT_ALLOWED_HOSTS=[]):
        refused = browser.post("/sso/settings/", form(issuer=oidc_provider.issuer))
        metadata = browser.post("/sso/settings/", form(
            issuer="http://169.254.169.254/latest"))
        sign_in = host_client(configured.domain).get("/sso/login/")
    with override_settings(SSO_ALLOW_PRIVATE_ISSUERS=False,
                           MODEL_ENDPOINT_ALLOWED_HOSTS=["127.0.0.1", "localhost"]):
        oidc.discover(oidc_provider.issuer, use_cache=False)  # an allow-listed gateway works

    assert refused.status_code == 200
    assert "is not allowed" in refused.content.decode()
    assert "is not allowed" in metadata.content.decode()
    with schema_context(result.client.schema_name):
        assert not selectors.get_settings().is_ready, "nothing was saved"
    # A provider saved earlier is checked again before each request: no redirect to it.
    assert oidc_provider.issuer not in sign_in.get("Location", "")
