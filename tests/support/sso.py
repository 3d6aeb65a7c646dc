"""Helpers for the SSO tests: a real OpenID Connect provider, npm's `oidc-provider` under
node (tests/tenants/sso/provider, installed by scripts/test), with its own login page.

`oidc_provider` is one provider for the whole run; clients register themselves
over its Dynamic Client Registration endpoint and its accounts (claims, groups)
are a JSON file the tests edit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from django_tenants.utils import schema_context

from devtools.processes import stop_group
from tests.support.accounts import PASSWORD

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "tenants" / "sso" / "provider"


class OidcProvider:
    def __init__(self, *, workdir: Path, keys: Path, id_token_ttl: int = 300) -> None:
        self.workdir = workdir
        self.accounts_path = workdir / "accounts.json"
        self.accounts_path.write_text("{}")
        self.keys = keys
        self.id_token_ttl = id_token_ttl
        self.process: subprocess.Popen | None = None
        self.issuer = ""
        self.log: list[str] = []

    def start(self) -> OidcProvider:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is missing: the SSO tests need Node.js 20.19 or newer")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
            pytest.fail("tests/tenants/sso/provider/node_modules is missing: run scripts/test "
                        "(it runs npm ci there)")
        self.process = subprocess.Popen(
            [node, "provider.mjs", "--accounts", str(self.accounts_path), "--keys",
             str(self.keys), "--id-token-ttl", str(self.id_token_ttl)],
            cwd=PROVIDER_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        ready = threading.Event()

        def read() -> None:
            for line in self.process.stdout:
                self.log.append(line.rstrip())
                if line.startswith("READY "):
                    self.issuer = line.split()[1]
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30):
            self.stop()
            pytest.fail("The test OpenID Connect provider did not start:\n" + "\n".join(self.log))
        return self

    def stop(self) -> None:
        stop_group(self.process)

    def set_account(self, login: str, **claims) -> None:
        accounts = json.loads(self.accounts_path.read_text())
        accounts[login] = claims
        tmp = self.accounts_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(accounts))
        tmp.replace(self.accounts_path)

    def register_client(self, *redirect_uris: str) -> tuple[str, str]:
        response = httpx.post(self.issuer + "/reg", json={
            "redirect_uris": list(redirect_uris), "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }, timeout=10)
        assert response.status_code == 201, response.text
        data = response.json()
        return data["client_id"], data["client_secret"]


@dataclass
class SsoClient:
    """A client company whose employees sign in through the test provider."""

    client: object
    domain: str
    client_id: str
    client_secret: str
    schema: str

    def settings(self):
        from tenants.sso import selectors

        with schema_context(self.schema):
            return selectors.get_settings()


def configure_sso(*, schema: str, issuer: str, client_id: str, client_secret: str,
                  domains: str = "acme.example", **extra) -> None:
    from tenants.sso import services

    values = {"enabled": True, "company_label": "Acme ID", "issuer": issuer,
              "client_id": client_id, "scopes": "openid email profile groups",
              "allowed_domains": domains, "groups_claim": "groups",
              "admin_group": "chatbot-admins", **extra}
    with schema_context(schema):
        services.save_settings(values=values, client_secret=client_secret)


def employee(oidc_provider: OidcProvider, *, groups: list[str] | None = None,
             domain: str = "acme.example", **claims) -> str:
    """A person at the provider; returns their login (also their `sub`)."""
    login = f"emp-{uuid.uuid4().hex[:8]}"
    oidc_provider.set_account(
        login, email=f"{login}@{domain}", email_verified=True, given_name="Erin",
        family_name="Employee", name="Erin Employee", groups=groups or ["staff"],
        **claims)
    return login


def provider_sign_in(authorization_url: str, *, login: str,
                     stop_at: str) -> str:
    """A person at the provider's own login page (over HTTP, as a browser would
    post its form). Returns the URL the provider finally sends them to (the
    first one starting with `stop_at`)."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        url = authorization_url
        for _ in range(10):
            if url.startswith(stop_at):
                return url
            response = browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            assert response.status_code == 200, (response.status_code, response.text[:500])
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert action and 'name="login"' in response.text, response.text[:500]
            posted = browser.post(urljoin(url, action.group(1)), data={
                "prompt": "login", "login": login, "password": PASSWORD})
            assert posted.status_code in (302, 303), posted.text[:500]
            url = urljoin(url, posted.headers["location"])
        raise AssertionError(f"The provider never sent the person back; last URL {url}")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# --- Fixtures (imported by tests/tenants/sso/conftest.py and the browser test) ---

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
