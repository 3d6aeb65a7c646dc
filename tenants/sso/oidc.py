"""The one module that talks to a client's OpenID Connect provider.

Protocol work is done by libraries: Authlib's OAuth2 client builds the
authorization request (PKCE S256, state, nonce) and the code redemption (its
body and client authentication); joserfc (Authlib's JOSE library) checks the
ID token's signature against the provider's published keys and its claims
(iss, aud, exp, iat, nonce) with a clock-skew leeway. This module only wires
them to a client's settings and turns every failure into a ProviderError with
a detail for the tenant admin: always our own sentence, never the provider's
body (a provider that points us at an internal service must learn nothing
from it).

Every request to a provider — discovery, keys, token, userinfo — goes through
one door, `_request`: the pinned transport of client model endpoints
(core.endpoint_policy.PinnedTransport: https, every address the host resolves
to checked and the connection pinned to it, no environment proxies) and no
redirects followed; a redirect is a refusal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core import endpoint_policy

# Asymmetric algorithms only: "none" and HMAC (which a forger could "sign" with
# the provider's public key) are refused.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA"]


class ProviderError(Exception):
    """The provider or its answer cannot be used; `detail` is for the tenant admin."""

    def __init__(self, detail: str, *, error: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error  # the provider's OAuth error code, when it is a standard one


# The token endpoint's standard error codes (RFC 6749 §5.2), each with our own
# sentence; any other answer is "refused" without repeating what it said.
TOKEN_ERRORS = {
    "invalid_request": "the request was malformed or is missing a parameter",
    "invalid_client": "the client ID or the client secret is wrong",
    "invalid_grant": "the sign-in code is invalid, expired, already used or was issued "
                     "for another redirect URI or client",
    "unauthorized_client": "this client may not use the authorization code flow",
    "unsupported_grant_type": "the provider does not support the authorization code flow",
    "invalid_scope": "a requested scope is not allowed",
}


class TokenRejected(ProviderError):
    """The ID token failed a check (signature, issuer, audience, expiry, nonce)."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


def _timeout() -> float:
    return settings.SSO_HTTP_TIMEOUT_SECONDS


def check_issuer_url(issuer: str) -> None:
    parts = urlsplit(issuer)
    allowed = {"https", "http"} if settings.SSO_ALLOW_HTTP_ISSUERS else {"https"}
    if parts.scheme not in allowed or not parts.hostname:
        raise ProviderError(f"The issuer must be an https:// address (got {issuer!r}).")
    if parts.query or parts.fragment:
        raise ProviderError("The issuer must not carry a query or fragment.")
    check_public_address(issuer)


def check_public_address(url: str) -> None:
    """A tenant admin chooses the provider: like a client model endpoint, its
    host must resolve to public addresses only (no loopback, private, link-local
    or cloud-metadata address), unless the platform allow-lists it
    (MODEL_ENDPOINT_ALLOWED_HOSTS / _NETWORKS) or development allows local
    providers (SSO_ALLOW_PRIVATE_ISSUERS; metadata addresses stay refused).
    Checked when the issuer is saved; every request checks again, per
    connection, in the pinned transport (`_request`)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        endpoint_policy.resolve_checked(parts.hostname or "", port,
                                        allow_private=settings.SSO_ALLOW_PRIVATE_ISSUERS)
    except ValueError as exc:
        raise ProviderError(f"The provider address {url} has an invalid port.") from exc
    except endpoint_policy.EndpointRefused as exc:
        raise ProviderError(f"The provider address {url} is not allowed: {exc.reason}") from exc


def _client() -> httpx.Client:
    """The only HTTP client that talks to providers (see the module's docstring)."""
    transport = endpoint_policy.PinnedTransport(
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=0),
        allow_http=settings.SSO_ALLOW_HTTP_ISSUERS,
        allow_private=settings.SSO_ALLOW_PRIVATE_ISSUERS,
    )
    return httpx.Client(transport=transport, timeout=_timeout(), follow_redirects=False,
                        trust_env=False)


def _request(method: str, url: str, *, what: str, **kwargs) -> httpx.Response:
    """One request to the provider's `what` through the pinned transport; a
    refused address, a failed connection or a redirect is a ProviderError."""
    try:
        with _client() as client:
            response = client.request(method, url, **kwargs)
    except endpoint_policy.EndpointRefused as exc:
        raise ProviderError(f"The provider's {what} at {url} is not allowed: "
                            f"{exc.reason}") from exc
    except httpx.TimeoutException as exc:
        raise ProviderError(f"The provider's {what} at {url} did not answer in time.") from exc
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise ProviderError(f"Could not reach the provider's {what} at {url}.") from exc
    if response.is_redirect or 300 <= response.status_code < 400:
        raise ProviderError(f"The provider's {what} at {url} answered with a redirect "
                            f"(HTTP {response.status_code}), which is never followed: the "
                            "discovery document must name the final address.")
    return response


def _json_object(response: httpx.Response) -> dict | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _get_json(url: str, *, what: str) -> dict:
    response = _request("GET", url, what=what, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise ProviderError(f"The provider's {what} at {url} answered HTTP "
                            f"{response.status_code}.")
    data = _json_object(response)
    if data is None:
        raise ProviderError(f"The provider's {what} at {url} is not a JSON object.")
    return data


def discover(issuer: str, *, use_cache: bool = True) -> dict:
    """The provider's discovery document, checked (OpenID Connect Discovery §4.3)."""
    check_issuer_url(issuer)
    key = f"sso:discovery:{issuer}"
    if use_cache and (cached := cache.get(key)):
        return cached
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json(url, what="discovery document")
    if metadata.get("issuer") != issuer:
        raise ProviderError(
            f"The discovery document at {url} names another issuer than {issuer!r}: use "
            "exactly the issuer it names (check the trailing slash)."
        )
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(field), str):
            raise ProviderError(f"The discovery document has no {field}.")
    cache.set(key, metadata, settings.SSO_METADATA_CACHE_SECONDS)
    return metadata


def _keys(metadata: dict, *, refresh: bool = False) -> KeySet:
    key = f"sso:jwks:{metadata['jwks_uri']}"
    jwks = None if refresh else cache.get(key)
    if jwks is None:
        jwks = _get_json(metadata["jwks_uri"], what="signing keys")
        cache.set(key, jwks, settings.SSO_METADATA_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderError("The provider's signing keys cannot be read.") from exc


def _auth_method(metadata: dict) -> str:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"


def authorization_request(provider: Provider, *, redirect_uri: str) -> AuthorizationRequest:
    metadata = discover(provider.issuer)
    nonce = generate_token(32)
    code_verifier = generate_token(64)
    # Authlib's protocol client without a session: it builds the URL, sends nothing.
    client = OAuth2Client(None, client_id=provider.client_id, scope=provider.scopes,
                          redirect_uri=redirect_uri, code_challenge_method="S256")
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=code_verifier,
    )
    return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)


def redeem_code(provider: Provider, *, code: str, code_verifier: str,
                redirect_uri: str) -> dict:
    """Trade the authorization code (with its PKCE verifier) for tokens."""
    metadata = discover(provider.issuer)
    body = prepare_token_request("authorization_code", redirect_uri=redirect_uri, code=code,
                                 code_verifier=code_verifier)
    url, headers, body = ClientAuth(provider.client_id, provider.client_secret,
                                    _auth_method(metadata)).prepare(
        "POST", metadata["token_endpoint"],
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body)
    response = _request("POST", url, what="token endpoint", headers=headers,
                        content=body.encode())
    token = _json_object(response)
    if response.status_code != 200 or token is None or "error" in token:
        error = str((token or {}).get("error") or "")
        if error in TOKEN_ERRORS:
            raise ProviderError(
                f"The provider refused the sign-in code ({error}: {TOKEN_ERRORS[error]}). "
                "Check the client ID, the client secret and the redirect URI.", error=error)
        raise ProviderError(f"The provider's token endpoint refused the sign-in code (HTTP "
                            f"{response.status_code}) without a standard error code. Check "
                            "the client ID, the client secret and the redirect URI.")
    if not isinstance(token.get("id_token"), str) or not token["id_token"]:
        raise ProviderError("The provider sent no ID token: is the 'openid' scope set?")
    return token


def verify_id_token(provider: Provider, *, id_token: str, nonce: str,
                    now: int | None = None) -> dict:
    """The ID token's claims, once its signature and claims are checked."""
    metadata = discover(provider.issuer)
    try:
        try:
            token = jwt.decode(id_token, _keys(metadata), algorithms=ID_TOKEN_ALGORITHMS)
        except JoseError:
            # The provider may have rotated its keys since we cached them.
            token = jwt.decode(id_token, _keys(metadata, refresh=True),
                               algorithms=ID_TOKEN_ALGORITHMS)
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            now=now if now is not None else int(time.time()),
            leeway=settings.SSO_CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(claims)
    except (JoseError, ValueError) as exc:
        claim = getattr(exc, "claim", "")
        raise TokenRejected(f"The ID token was refused ({claim or 'signature'}): {exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise TokenRejected("The ID token was issued to another client (azp).")
    return dict(claims)


def userinfo(provider: Provider, *, access_token: str) -> dict:
    """Claims from the userinfo endpoint, or {} when the provider has none."""
    metadata = discover(provider.issuer)
    url = metadata.get("userinfo_endpoint")
    if not isinstance(url, str) or not url or not access_token:
        return {}
    try:
        response = _request("GET", url, what="userinfo endpoint",
                            headers={"Authorization": f"Bearer {access_token}",
                                     "Accept": "application/json"})
    except ProviderError:
        return {}
    return (_json_object(response) or {}) if response.status_code == 200 else {}
