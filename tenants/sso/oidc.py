"""The one module that talks to a client's OpenID Connect provider.

Protocol work is done by libraries: Authlib's OAuth2 client builds the
authorization request (PKCE S256, state, nonce) and redeems the code; joserfc
(Authlib's JOSE library) checks the ID token's signature against the
provider's published keys and its claims (iss, aud, exp, iat, nonce) with a
clock-skew leeway. This module only wires them to a client's settings and turns
every failure into a ProviderError with a detail for the tenant admin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Asymmetric algorithms only: "none" and HMAC (which a forger could "sign" with
# the provider's public key) are refused.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA"]


class ProviderError(Exception):
    """The provider or its answer cannot be used; `detail` is for the tenant admin."""

    def __init__(self, detail: str, *, error: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error  # the provider's OAuth error code, when it sent one


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
    providers (SSO_ALLOW_PRIVATE_ISSUERS). Checked before every request."""
    if settings.SSO_ALLOW_PRIVATE_ISSUERS:
        return
    from core import endpoint_policy

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        endpoint_policy.resolve_checked(parts.hostname or "", port)
    except ValueError as exc:
        raise ProviderError(f"The provider address {url} has an invalid port.") from exc
    except endpoint_policy.EndpointRefused as exc:
        raise ProviderError(f"The provider address {url} is not allowed: {exc.reason}") from exc


def _get_json(url: str, *, what: str) -> dict:
    check_public_address(url)
    try:
        response = requests.get(url, timeout=_timeout(), allow_redirects=False,
                                headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise ProviderError(f"Could not reach the provider's {what} at {url}: "
                            f"{type(exc).__name__}.") from exc
    if response.status_code != 200:
        raise ProviderError(f"The provider's {what} at {url} answered HTTP "
                            f"{response.status_code}.")
    try:
        data = response.json()
    except ValueError as exc:
        raise ProviderError(f"The provider's {what} at {url} is not JSON.") from exc
    if not isinstance(data, dict):
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
            f"The discovery document names the issuer {metadata.get('issuer')!r}, not "
            f"{issuer!r}: use exactly the issuer it names."
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


def _session(provider: Provider, metadata: dict, *, redirect_uri: str) -> OAuth2Session:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = ("client_secret_basic" if "client_secret_basic" in methods
                   else "client_secret_post")
    return OAuth2Session(
        client_id=provider.client_id, client_secret=provider.client_secret,
        scope=provider.scopes, redirect_uri=redirect_uri,
        code_challenge_method="S256", token_endpoint_auth_method=auth_method,
    )


def authorization_request(provider: Provider, *, redirect_uri: str) -> AuthorizationRequest:
    metadata = discover(provider.issuer)
    nonce = generate_token(32)
    code_verifier = generate_token(64)
    with _session(provider, metadata, redirect_uri=redirect_uri) as session:
        url, state = session.create_authorization_url(
            metadata["authorization_endpoint"], nonce=nonce, code_verifier=code_verifier,
        )
    return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)


def redeem_code(provider: Provider, *, code: str, code_verifier: str,
                redirect_uri: str) -> dict:
    """Trade the authorization code (with its PKCE verifier) for tokens."""
    metadata = discover(provider.issuer)
    check_public_address(metadata["token_endpoint"])
    with _session(provider, metadata, redirect_uri=redirect_uri) as session:
        try:
            token = session.fetch_token(
                metadata["token_endpoint"], grant_type="authorization_code", code=code,
                code_verifier=code_verifier, timeout=_timeout(),
            )
        except (OAuth2Error, OAuthError) as exc:
            raise ProviderError(
                f"The provider refused the sign-in code: {exc.error}"
                + (f" ({exc.description})" if exc.description else "")
                + ". Check the client ID, the client secret and the redirect URI.",
                error=exc.error or "",
            ) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Could not reach the provider's token endpoint: "
                                f"{type(exc).__name__}.") from exc
    if not token.get("id_token"):
        raise ProviderError("The provider sent no ID token: is the 'openid' scope set?")
    return dict(token)


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
    if not url or not access_token:
        return {}
    check_public_address(url)
    try:
        response = requests.get(url, timeout=_timeout(), allow_redirects=False,
                                headers={"Authorization": f"Bearer {access_token}"})
        data = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
