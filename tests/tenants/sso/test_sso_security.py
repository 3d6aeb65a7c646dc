"""What a sign-in must refuse, with real tokens from a real provider: a code or
ID token of client A at client B, wrong audience or issuer, expired tokens,
replayed state, tampered signatures, a foreign issuer in the answer."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django_tenants.utils import schema_context
from joserfc import jws
from joserfc.jwk import OctKey

from tenants.members.models import User
from tenants.sso import oidc
from tests.support.sso import OidcProvider, employee, path_of, provider_sign_in


@pytest.fixture(scope="module")
def other_issuer(tmp_path_factory, provider_keys, oidc_provider):
    """A second provider signing with the SAME keys under another issuer name."""
    provider = OidcProvider(workdir=tmp_path_factory.mktemp("oidc-other"),
                            keys=provider_keys).start()
    yield provider
    provider.stop()


def provider_of(sso, issuer: str) -> oidc.Provider:
    return oidc.Provider(issuer=issuer, client_id=sso.client_id,
                         client_secret=sso.client_secret, scopes="openid email profile groups")


def real_id_token(provider: oidc.Provider, *, domain: str, login: str) -> tuple[str, str]:
    """(id_token, nonce) issued by the provider to this client for this person."""
    redirect_uri = f"http://{domain}/sso/callback/"
    request = oidc.authorization_request(provider, redirect_uri=redirect_uri)
    back = provider_sign_in(request.url, login=login, stop_at=redirect_uri)
    code = parse_qs(urlsplit(back).query)["code"][0]
    tokens = oidc.redeem_code(provider, code=code, code_verifier=request.code_verifier,
                              redirect_uri=redirect_uri)
    return tokens["id_token"], request.nonce


def claims_of(id_token: str) -> dict:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def two_clients(make_sso_client, oidc_provider):
    a, b = make_sso_client("ssoa"), make_sso_client("ssob")
    assert a.client_id != b.client_id
    return a, b


def test_an_id_token_for_client_a_is_refused_for_client_b(two_clients, oidc_provider, live_db):
    a, b = two_clients
    login = employee(oidc_provider)
    token, nonce = real_id_token(provider_of(a, oidc_provider.issuer), domain=a.domain,
                                 login=login)
    # A's token is good for A...
    assert oidc.verify_id_token(provider_of(a, oidc_provider.issuer), id_token=token,
                                nonce=nonce)["sub"] == login
    # ...and refused for B: the audience is A's client id.
    with pytest.raises(oidc.TokenRejected, match="aud"):
        oidc.verify_id_token(provider_of(b, oidc_provider.issuer), id_token=token, nonce=nonce)


def test_a_code_for_client_a_is_refused_at_client_b(two_clients, oidc_provider, host_client):
    a, b = two_clients
    login = employee(oidc_provider)
    at_a = host_client(a.domain).get("/sso/login/")
    back_to_a = provider_sign_in(at_a["Location"], login=login,
                                 stop_at=f"http://{a.domain}/sso/callback/")
    code = parse_qs(urlsplit(back_to_a).query)["code"][0]

    # An attacker starts a sign-in at B and swaps in A's code with B's own state.
    browser_b = host_client(b.domain)
    state_b = parse_qs(urlsplit(browser_b.get("/sso/login/")["Location"]).query)["state"][0]
    response = browser_b.get("/sso/callback/?" + urlencode({"code": code, "state": state_b}))
    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert "_auth_user_id" not in browser_b.session
    assert "invalid_grant" in b.settings().last_error
    with schema_context(b.schema):
        assert not User.objects.filter(email=f"{login}@acme.example").exists()

    # Replaying A's whole answer at B: B never started that sign-in.
    replay = host_client(b.domain).get(path_of(back_to_a))
    assert replay.status_code == 400
    assert "already been used or was not started from this browser" in replay.content.decode()


def test_replayed_state_is_refused(make_sso_client, oidc_provider, host_client):
    sso = make_sso_client()
    login = employee(oidc_provider)
    browser = host_client(sso.domain)
    back = provider_sign_in(browser.get("/sso/login/")["Location"], login=login,
                            stop_at=f"http://{sso.domain}/sso/callback/")
    assert browser.get(path_of(back)).status_code == 302  # signed in once
    browser.post("/accounts/logout/")

    again = browser.get(path_of(back))  # the same answer, same browser
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert "_auth_user_id" not in browser.session
    elsewhere = host_client(sso.domain).get(path_of(back))  # another browser
    assert elsewhere.status_code == 400


def test_an_answer_naming_another_issuer_is_refused(make_sso_client, host_client):
    sso = make_sso_client()
    browser = host_client(sso.domain)
    state = parse_qs(urlsplit(browser.get("/sso/login/")["Location"]).query)["state"][0]
    response = browser.get("/sso/callback/?" + urlencode(
        {"code": "x", "state": state, "iss": "https://evil.example"}))
    assert response.status_code == 400
    assert "came from another sign-in service" in response.content.decode()


def test_wrong_issuer_is_refused_even_with_a_valid_signature(
        make_sso_client, oidc_provider, other_issuer, live_db):
    sso = make_sso_client()
    login = f"emp-other-{sso.domain[:8]}"
    other_issuer.set_account(login, email=f"{login}@acme.example", email_verified=True)
    client_id, secret = other_issuer.register_client(f"http://{sso.domain}/sso/callback/")
    at_other = oidc.Provider(issuer=other_issuer.issuer, client_id=client_id,
                             client_secret=secret, scopes="openid email")
    token, nonce = real_id_token(at_other, domain=sso.domain, login=login)
    assert claims_of(token)["iss"] == other_issuer.issuer
    # Same keys, same client id, but our client trusts the first issuer only.
    expected = oidc.Provider(issuer=oidc_provider.issuer, client_id=client_id,
                             client_secret=secret, scopes="openid email")
    with pytest.raises(oidc.TokenRejected, match="iss"):
        oidc.verify_id_token(expected, id_token=token, nonce=nonce)


def test_expiry_is_checked_with_clock_skew_tolerated(make_sso_client, oidc_provider, live_db,
                                                     settings):
    sso = make_sso_client()
    provider = provider_of(sso, oidc_provider.issuer)
    token, nonce = real_id_token(provider, domain=sso.domain, login=employee(oidc_provider))
    claims = claims_of(token)
    skew = settings.SSO_CLOCK_SKEW_SECONDS
    assert skew > 0
    # Shortly after expiry, within the tolerated skew: accepted.
    oidc.verify_id_token(provider, id_token=token, nonce=nonce, now=claims["exp"] + skew - 5)
    with pytest.raises(oidc.TokenRejected, match="exp"):
        oidc.verify_id_token(provider, id_token=token, nonce=nonce, now=claims["exp"] + skew + 1)
    # A token issued "in the future" beyond the skew: refused.
    with pytest.raises(oidc.TokenRejected, match="iat"):
        oidc.verify_id_token(provider, id_token=token, nonce=nonce, now=claims["iat"] - skew - 5)


def test_wrong_nonce_is_refused(make_sso_client, oidc_provider, live_db):
    sso = make_sso_client()
    provider = provider_of(sso, oidc_provider.issuer)
    token, _nonce = real_id_token(provider, domain=sso.domain, login=employee(oidc_provider))
    with pytest.raises(oidc.TokenRejected, match="nonce"):
        oidc.verify_id_token(provider, id_token=token, nonce="another-sign-in")


def test_tampered_or_unsigned_tokens_are_refused(make_sso_client, oidc_provider, live_db):
    sso = make_sso_client()
    provider = provider_of(sso, oidc_provider.issuer)
    token, nonce = real_id_token(provider, domain=sso.domain, login=employee(oidc_provider))
    header, payload, signature = token.split(".")

    # A changed signature.
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    # A changed payload (another person) under the original signature.
    claims = claims_of(token) | {"email": "boss@acme.example", "sub": "boss"}
    swapped = ".".join([header, b64(json.dumps(claims).encode()), signature])
    # No signature at all.
    unsigned = ".".join([b64(b'{"alg":"none","typ":"JWT"}'), payload, ""])
    # HMAC "signed" with the provider's public key as the secret (key confusion).
    public_jwk = oidc._keys(oidc.discover(oidc_provider.issuer)).keys[0].as_dict(private=False)
    hmac_key = OctKey.import_key(json.dumps(public_jwk).encode())
    confused = jws.serialize_compact({"alg": "HS256"}, json.dumps(claims).encode(), hmac_key,
                                     algorithms=["HS256"])
    for forged in (flipped, swapped, unsigned, confused):
        with pytest.raises(oidc.TokenRejected):
            oidc.verify_id_token(provider, id_token=forged, nonce=nonce)
    # The untouched token still passes (the checks above are not vacuous).
    assert oidc.verify_id_token(provider, id_token=token, nonce=nonce)["nonce"] == nonce


def test_next_cannot_send_the_person_to_another_site(make_sso_client, oidc_provider,
                                                    host_client):
    sso = make_sso_client()
    browser = host_client(sso.domain)
    start = browser.get("/sso/login/?next=https://evil.example/")
    back = provider_sign_in(start["Location"], login=employee(oidc_provider),
                            stop_at=f"http://{sso.domain}/sso/callback/")
    response = browser.get(path_of(back))
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_authorization_request_uses_pkce_state_and_nonce(make_sso_client, host_client):
    sso = make_sso_client()
    location = host_client(sso.domain).get("/sso/login/")["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["client_id"] == [sso.client_id]
    assert query["response_type"] == ["code"]
