"""Fixtures for the SSO tests: a real OpenID Connect provider (npm's
oidc-provider under node; see tests/support/sso.py) and client companies that
sign in through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sso import OidcProvider, SsoClient, configure_sso


@pytest.fixture(scope="session")
def provider_keys(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("oidc-keys") / "keys.json"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory, provider_keys) -> Iterator[OidcProvider]:
    provider = OidcProvider(workdir=tmp_path_factory.mktemp("oidc"), keys=provider_keys).start()
    yield provider
    provider.stop()


@pytest.fixture
def make_sso_client(make_client, oidc_provider):
    """A real client (schema) with SSO configured for the test provider. Its
    redirect URIs: the in-process test client's and the real web server's."""

    def factory(prefix: str = "sso", *, port: int | None = None, **extra) -> SsoClient:
        result = make_client(prefix)
        domain = result.domain.domain
        uris = [f"http://{domain}/sso/callback/"]
        if port:
            uris.append(f"http://{domain}:{port}/sso/callback/")
        client_id, secret = oidc_provider.register_client(*uris)
        configure_sso(schema=result.client.schema_name, issuer=oidc_provider.issuer,
                      client_id=client_id, client_secret=secret, **extra)
        return SsoClient(client=result.client, domain=domain, client_id=client_id,
                         client_secret=secret, schema=result.client.schema_name)

    return factory
