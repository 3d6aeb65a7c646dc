"""Shared fixtures: a real PostgreSQL test database, real clients (schemas),
and a real Celery worker process talking to a real Redis.

Tests commit for real (no wrapping transaction) because workers in other
processes must see their data; each test creates its own uniquely named
clients and erases them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient

from devtools.processes import free_port, stop_group
from tests.support.accounts import ADMIN_EMAIL, PASSWORD, erase_staff, make_staff

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """A fresh test database plus what every run needs: the platform and the template.

    Replaces pytest-django's version, which only creates databases for tests
    that carry its marks; ours commit for real and use `live_db` instead.
    """
    from django.test.utils import setup_databases, teardown_databases

    from tenants import services

    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose, interactive=False,
            aliases={"default"}, serialized_aliases=set(),
        )
        services.ensure_platform()
        services.ensure_template_schema()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: a request through Django's test
    client leaves its language active in this thread, and gettext in services a
    later test calls would answer in it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def live_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Database access that commits, so other processes see the data."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()


@pytest.fixture
def make_client(live_db):
    """Create real clients (cloned schemas); erase them after the test."""
    from tenants import services
    from tenants.models import Client

    created: list[str] = []

    def factory(prefix: str = "t", **kwargs) -> services.ProvisionedClient:
        slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
        kwargs.setdefault("name", f"Client {slug}")
        kwargs.setdefault("admin_email", ADMIN_EMAIL)
        kwargs.setdefault("admin_password", PASSWORD)
        # Tests sign in with the password form everywhere; those about the
        # two-step sign-in ask for the production default ("admins") themselves.
        kwargs.setdefault("second_factor", "off")
        result = services.create_client(slug=slug, **kwargs)
        created.append(slug)
        return result

    yield factory
    connection.set_schema_to_public()
    for client in Client.objects.filter(slug__in=created):
        services.delete_client(client=client)


@pytest.fixture
def staff(live_db):
    """A platform staff account (public schema, password PASSWORD), erased afterwards."""
    user = make_staff()
    yield user
    erase_staff(user)


@pytest.fixture
def host_client():
    """Make Django test clients whose requests go to one host (one client's site)."""

    def factory(host: str) -> HttpClient:
        return HttpClient(HTTP_HOST=host)

    return factory


@pytest.fixture
def output_dir(request) -> Path:
    """Where a test keeps what a person may want to look at (screenshots...)."""
    path = OUTPUT / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_database_url() -> str:
    """settings.DATABASE_URL, pointed at the test database pytest-django made."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class WorkerProcess:
    """A real `celery worker` process on every queue, against the test database."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # Several workers may share a log file: only this one's lines count.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:  # the child keeps its own copy
            self._spawn(log)
        self._wait_ready()

    def _spawn(self, log) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker",
             "-Q", "default,llm,ingest", "-P", "threads", "-c", "16",
             "-n", f"test-{uuid.uuid4().hex[:6]}@%h", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Worker exited; see {self.log_path}")
            if b"ready." in self.log_path.read_bytes()[self._log_offset:]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"Worker not ready after {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """Kill -9, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    def stop(self) -> None:
        stop_group(self.process, timeout=15)


MODEL_KEY = "sk-test-platform-key-0001"


@pytest.fixture(scope="session")
def model_server():
    """Our local OpenAI-compatible server; the real SDK talks to it over HTTP."""
    from devtools.local_model import LocalModelServer

    with LocalModelServer(api_key=MODEL_KEY) as server:
        yield server


@pytest.fixture
def model(model_server):
    """The model server, reset to its defaults with an empty request log."""
    model_server.reset()
    model_server.clear()
    yield model_server
    model_server.reset()


@pytest.fixture(scope="session")
def worker_env(django_db_setup, model_server, tmp_path_factory) -> dict[str, str]:
    """What our own processes (workers, web server) run with in tests."""
    mail_dir = tmp_path_factory.mktemp("worker-mail")
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "PYTHONUNBUFFERED": "1",
        "OPENAI_API_KEY": MODEL_KEY,
        "OPENAI_BASE_URL": model_server.base_url,
        "MODEL_TIMEOUT_SECONDS": "2",
        "MODEL_MAX_RETRIES": "2",
        "CHAT_RATE_LIMIT_PER_USER": "12/minute",
        "CHAT_RATE_LIMIT_PER_CLIENT": "1000/minute",
    }


@pytest.fixture(scope="module")
def celery_worker(worker_env) -> Iterator[WorkerProcess]:
    """One worker per test module (a module may also start and kill its own)."""
    OUTPUT.mkdir(exist_ok=True)
    worker = WorkerProcess(env=worker_env, log_path=OUTPUT / "celery-worker.log")
    worker.start()
    yield worker
    worker.stop()


class WebServer:
    """The real ASGI app under uvicorn, in its own process."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**env, "SITE_PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> WebServer:
        import httpx

        from devtools.runner import web_command

        with self.log_path.open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                web_command(host="127.0.0.1", port=self.port, access_log=False),
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Web server exited; see {self.log_path}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/healthz",
                          headers={"Host": settings.BASE_DOMAIN}, timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"Web server not ready; see {self.log_path}")

    def stop(self) -> None:
        stop_group(self.process)

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}"


@pytest.fixture(scope="session")
def web_server(worker_env) -> Iterator[WebServer]:
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env=worker_env, log_path=OUTPUT / "web-server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def worker_mail_dir(worker_env) -> Path:
    return Path(urlsplit(worker_env["EMAIL_URL"]).path)
