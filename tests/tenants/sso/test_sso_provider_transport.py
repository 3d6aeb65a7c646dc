"""Issue 21, finding 1: every request to a client's OpenID Connect provider
(discovery, keys, token, userinfo) goes through the pinned transport of
client model endpoints and follows no redirect, and what a provider answers
never reaches the tenant admin's page as its own text.

A provider is a tenant admin's choice, so an attacker's provider may answer
the code redemption with `307 Location: http://127.0.0.1:<port>/…`: the server
must not POST the code, the PKCE verifier and the client secret there, and
must not show the internal service's reply. Real servers: the test
OpenID Connect provider (npm's oidc-provider) whose discovery document the
attacker's provider copies, a small HTTP server for the attacker's provider
(it answers 307) and one for the internal service (it records whatever
reaches it)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.sso import oidc, selectors
from tests.support.accounts import signed_in_client
from tests.support.llm_capture import CaptureServer
from tests.support.sso import configure_sso

INTERNAL_REPLY = "INTERNAL-SERVICE-REPLY-7f3a"
PROVIDER_BODY = "PROVIDER-BODY-SAYS-91c2"


@pytest.fixture
def internal_service():
    """A service on loopback that must never be reached; if it is, it answers
    like an OAuth server with a tell-tale description."""
    with CaptureServer(host="127.0.0.1") as server:
        server.answer(400, {"error": "internal_only", "error_description": INTERNAL_REPLY})
        yield server


@pytest.fixture
def attacker_provider(oidc_provider):
    """A provider at http://localhost:<port> serving the real provider's
    discovery document under its own name; its token, keys and userinfo
    endpoints are its own, and the test decides what they answer."""
    with CaptureServer(host="127.0.0.1") as server:
        issuer = f"http://localhost:{server.port}"
        real = httpx.get(oidc_provider.issuer + "/.well-known/openid-configuration",
                         timeout=10).json()
        server.answer(200, {**real, "issuer": issuer, "token_endpoint": issuer + "/token",
                            "jwks_uri": issuer + "/jwks", "userinfo_endpoint": issuer + "/me"},
                      path="/.well-known/openid-configuration")
        server.issuer = issuer
        yield server


def redirect_to(server: CaptureServer, target: str, *, path: str) -> None:
    server.answer(307, b"", path=path, headers={"Location": target, "Content-Length": "0"})


def provider(issuer: str) -> oidc.Provider:
    return oidc.Provider(issuer=issuer, client_id="client-1", client_secret="s3cret-client",
                         scopes="openid email")


def redeem(issuer: str) -> oidc.ProviderError:
    with pytest.raises(oidc.ProviderError) as refused:
        oidc.redeem_code(provider(issuer), code="the-code", code_verifier="v" * 64,
                         redirect_uri="http://acme.localhost/sso/callback/")
    return refused.value


# Development (private providers allowed: the redirect alone must be refused),
# and production with the provider deliberately allow-listed by name.
POLICIES = {
    "development": {"SSO_ALLOW_PRIVATE_ISSUERS": True, "SSO_ALLOW_HTTP_ISSUERS": True},
    "allow-listed provider": {"SSO_ALLOW_PRIVATE_ISSUERS": False,
                              "SSO_ALLOW_HTTP_ISSUERS": True,
                              "MODEL_ENDPOINT_ALLOWED_HOSTS": ["localhost"],
                              "MODEL_ENDPOINT_ALLOWED_NETWORKS": []},
}


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_a_token_endpoint_redirect_to_loopback_is_not_followed(
        attacker_provider, internal_service, policy, live_db):
    redirect_to(attacker_provider, f"http://127.0.0.1:{internal_service.port}/steal",
                path="/token")
    with override_settings(**policy):
        error = redeem(attacker_provider.issuer)

    posted = [r for r in attacker_provider.requests if r.path == "/token"]
    assert len(posted) == 1, "the code went to the provider's token endpoint once"
    assert internal_service.requests == [], "nothing reached the internal address"
    assert "redirect" in error.detail and "307" in error.detail
    assert INTERNAL_REPLY not in error.detail and "internal_only" not in error.detail


@pytest.mark.parametrize("path", ["/jwks", "/me", "/.well-known/openid-configuration"])
def test_no_other_provider_request_follows_a_redirect(
        attacker_provider, internal_service, path, live_db):
    """Discovery, signing keys and userinfo: a redirect is a refusal too."""
    target = f"http://127.0.0.1:{internal_service.port}/steal"
    redirect_to(attacker_provider, target, path=path)
    issuer = attacker_provider.issuer
    if path == "/.well-known/openid-configuration":
        with pytest.raises(oidc.ProviderError, match="redirect"):
            oidc.discover(issuer, use_cache=False)
    elif path == "/jwks":
        with pytest.raises(oidc.ProviderError, match="redirect"):
            oidc._keys(oidc.discover(issuer, use_cache=False), refresh=True)
    else:
        oidc.discover(issuer, use_cache=False)
        assert oidc.userinfo(provider(issuer), access_token="an-access-token") == {}
    assert internal_service.requests == []


def test_a_token_endpoint_on_an_internal_address_is_refused_at_connect(
        attacker_provider, internal_service, live_db):
    """The discovery document names the internal service as its token
    endpoint: outside development the pinned transport refuses the address
    before anything is sent."""
    document = attacker_provider.replies["/.well-known/openid-configuration"]
    doc = json.loads(document.body)
    doc["token_endpoint"] = f"http://127.0.0.1:{internal_service.port}/token"
    attacker_provider.answer(200, doc, path="/.well-known/openid-configuration")
    with override_settings(**POLICIES["allow-listed provider"]):
        error = redeem(attacker_provider.issuer)
    assert internal_service.requests == []
    assert "not allowed" in error.detail
    assert INTERNAL_REPLY not in error.detail


@pytest.mark.parametrize("status, body, expected", [
    (400, {"error": "invalid_client", "error_description": PROVIDER_BODY}, "invalid_client"),
    (401, {"error": PROVIDER_BODY, "error_description": PROVIDER_BODY}, "HTTP 401"),
    (500, PROVIDER_BODY.encode(), "HTTP 500"),
    (200, {"access_token": "x", "note": PROVIDER_BODY}, "no ID token"),
    (200, PROVIDER_BODY.encode(), "HTTP 200"),
])
def test_the_admin_reads_our_sentence_never_the_providers_body(
        attacker_provider, status, body, expected, live_db):
    attacker_provider.answer(status, body, path="/token")
    error = redeem(attacker_provider.issuer)
    assert PROVIDER_BODY not in error.detail
    assert expected in error.detail


def test_the_sso_settings_page_shows_no_internal_reply(
        make_client, host_client, attacker_provider, internal_service):
    """End to end: an employee's callback makes the server redeem a code at a
    provider that redirects to loopback; the sign-in fails with a sentence,
    nothing reaches the internal service, and the tenant admin's page names
    the redirect, not the internal reply."""
    redirect_to(attacker_provider, f"http://127.0.0.1:{internal_service.port}/steal",
                path="/token")
    result = make_client("ssoredir")
    configure_sso(schema=result.client.schema_name, issuer=attacker_provider.issuer,
                  client_id="client-1", client_secret="s3cret-client")
    browser = host_client(result.domain.domain)
    started = browser.get("/sso/login/")
    assert started.status_code == 302
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    callback = browser.get("/sso/callback/?" + urlencode({"state": state, "code": "c0de"}))
    assert callback.status_code == 502
    assert internal_service.requests == []
    assert INTERNAL_REPLY not in callback.content.decode()

    page = signed_in_client(result).get("/sso/settings/").content.decode()
    assert "redirect" in page and INTERNAL_REPLY not in page and "internal_only" not in page
    with schema_context(result.client.schema_name):
        assert "redirect" in selectors.get_settings().last_error
