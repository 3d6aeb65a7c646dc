"""The llm security tests' own web server and worker: like the shared ones, but
with the outbound URL policy set as a deployment might (plain http allowed for
the local test servers, and one deliberate private network, 127.0.0.2/32,
allow-listed as an "on-premises gateway"). 127.0.0.1 stays internal: the
platform's model server lives there (trusted as the platform endpoint only)."""

from __future__ import annotations

import pytest

from tests.conftest import OUTPUT, WebServer, WorkerProcess
from tests.llm.helpers import ALLOWED_HOST
from tests.support.accounts import signed_in_site
from tests.support.llm_capture import CaptureServer


@pytest.fixture(scope="module")
def policy_env(worker_env) -> dict[str, str]:
    return {**worker_env, "MODEL_ENDPOINT_ALLOW_HTTP": "true",
            "MODEL_ENDPOINT_ALLOWED_NETWORKS": f"{ALLOWED_HOST}/32",
            "MODEL_ENDPOINT_ALLOWED_HOSTS": ""}


@pytest.fixture(scope="module")
def policy_web(policy_env):
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env=policy_env, log_path=OUTPUT / "llm-web-server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def policy_worker(policy_env):
    OUTPUT.mkdir(exist_ok=True)
    worker = WorkerProcess(env=policy_env, log_path=OUTPUT / "llm-worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def tenant(make_client, policy_web, policy_worker, model):
    """A fresh client and its tenant admin's browser-like session."""
    result = make_client("llm")
    site = signed_in_site(policy_web, result)
    return result, site


@pytest.fixture
def gateway_server():
    """A capture server on the allow-listed address: where a tenant admin may
    legitimately point the Base URL (with their own key)."""
    with CaptureServer(host=ALLOWED_HOST) as server:
        yield server


@pytest.fixture
def internal_service():
    """A capture server on loopback: an internal service nobody may reach."""
    with CaptureServer(host="127.0.0.1") as server:
        yield server
