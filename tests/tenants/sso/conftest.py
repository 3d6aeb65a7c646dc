"""Fixtures for the SSO tests: a real OpenID Connect provider (npm's
oidc-provider under node) and client companies that sign in through it; they
live in tests/support/sso.py so the browser test (tests/e2e) can use them too."""

from tests.support.sso import make_sso_client, oidc_provider, provider_keys  # noqa: F401
