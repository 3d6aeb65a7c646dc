"""PostgreSQL going away: /healthz says so in JSON, pages answer a 503
"temporarily unavailable" sentence, and everything recovers by itself; celery
beat rides the outage out instead of exiting."""

from __future__ import annotations

import time

import httpx
import pytest
from django.conf import settings

from core.version import version
from devtools.processes import stop_group
from tests.conftest import OUTPUT, WebServer
from tests.conftest import test_database_url as database_url_of_tests
from tests.support.beat import start_beat
from tests.support.proxy import OutageProxy


@pytest.fixture
def db_proxy(django_db_setup):
    proxy = OutageProxy.for_postgres_url(database_url_of_tests()).up()
    yield proxy
    proxy.down()


def _get(url: str, host: str, **headers) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, headers={"Host": host, **headers}, timeout=60)
    return response, time.monotonic() - started


def test_database_outage_gives_json_health_and_503_pages_then_recovers(
        make_client, worker_env, db_proxy):
    result = make_client("outage")
    env = {**worker_env, "DB_POOL_TIMEOUT": "3",
           "DATABASE_URL": db_proxy.proxied_postgres_url(database_url_of_tests())}
    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env=env, log_path=OUTPUT / "web-outage.log").start()
    host = result.domain.domain
    base = f"http://127.0.0.1:{server.port}"
    try:
        before, _ = _get(f"{base}/accounts/login/", host)
        assert before.status_code == 200

        db_proxy.down()
        health, health_seconds = _get(f"{base}/healthz", settings.BASE_DOMAIN)
        by_ip, _ = _get(f"{base}/healthz", "127.0.0.1")
        page, page_seconds = _get(f"{base}/accounts/login/", host)
        api, _ = _get(f"{base}/", host, Accept="application/json")

        db_proxy.up()
        deadline = time.monotonic() + 30
        while True:
            after, _ = _get(f"{base}/accounts/login/", host)
            if after.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        healthy, _ = _get(f"{base}/healthz", host)
    finally:
        server.stop()

    print(f"/healthz answered in {health_seconds:.2f} s, a page in {page_seconds:.2f} s")
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "database": "down", "redis": "ok",
                             "version": version()}
    assert by_ip.status_code == 503 and by_ip.json()["database"] == "down"
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in page.text and "Nothing you saved is lost" in page.text
    assert api.status_code == 503 and "temporarily unavailable" in api.json()["error"]
    assert after.status_code == 200, "pages recover by themselves once the database is back"
    assert healthy.status_code == 200 and healthy.json()["database"] == "ok"


def test_beat_rides_out_a_database_outage(worker_env, db_proxy, tmp_path):
    env = {**worker_env, "BEAT_SWEEP_SECONDS": "1",
           "DATABASE_URL": db_proxy.proxied_postgres_url(database_url_of_tests())}
    log_path = tmp_path / "beat.log"
    beat = start_beat(env, log_path, schedule=tmp_path / "schedule")

    def wait_for(text: str, *, after: int = 0, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = log_path.read_text(errors="replace")
            found = content.find(text, after)
            if found >= 0:
                return found + len(text)
            assert beat.poll() is None, f"beat exited:\n{content[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in the beat log:\n{content[-3000:]}")

    try:
        position = wait_for("Sending due task fail-abandoned-answers")
        db_proxy.down()
        position = wait_for("the database is unreachable", after=position)
        position = wait_for("the database is unreachable", after=position)  # and again
        db_proxy.up()
        wait_for("Sending due task fail-abandoned-answers", after=position)
        assert beat.poll() is None, "beat is still running"
    finally:
        stop_group(beat, timeout=15)
