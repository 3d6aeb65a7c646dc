"""The development runner (scripts/start: devtools.runner) keeps the app up when
one of its processes dies, says so before anything starts when its port is
taken, prints the banner once the web server answers, and one-off commands
(scripts/manage: devtools.embedded) leave no embedded service behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from devtools.processes import children_of, free_port
from tests.conftest import ROOT
from tests.support.waiting import wait_until


def _wait(predicate, *, timeout: float, what: str, log: Path):
    return wait_until(predicate, timeout=timeout, what=what,
                      detail=lambda: "runner log:\n" + log.read_text(errors="replace")[-4000:])


def test_a_killed_worker_is_restarted_and_the_app_stays_up(worker_env, tmp_path):
    port = free_port()
    env = {key: value for key, value in worker_env.items()
           if key != "TUNEAIBOT_EPHEMERAL_SERVICES"}
    env.update(TUNEAIBOT_DATA_DIR=str(tmp_path))
    log_path = tmp_path / "runner.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "devtools.runner", "--port", str(port), "--no-demo",
             "--llm-concurrency", "8"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def llm_worker() -> int | None:
        return next((pid for pid, cmd in children_of(runner.pid).items() if "-Q llm" in cmd),
                    None)

    try:
        _wait(healthy, timeout=120, what="the web server answering", log=log_path)
        first = _wait(llm_worker, timeout=30, what="the llm worker starting", log=log_path)

        os.kill(first, signal.SIGKILL)
        second = _wait(lambda: (pid := llm_worker()) not in (None, first) and pid,
                       timeout=60, what="the llm worker restarting", log=log_path)

        assert runner.poll() is None, "the runner keeps running"
        assert healthy(), "the web server kept serving"
        assert second != first
        assert "worker-llm exited with code -9; restarting it in 1 s" in log_path.read_text()
        by_ip = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "127.0.0.1"},
                          timeout=5)
        assert by_ip.status_code == 200, "/healthz answers a request by IP"
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=60)
    leftovers = children_of(runner.pid)
    assert not leftovers, f"children left after the runner stopped: {leftovers}"
    log = log_path.read_text()
    assert "Stopped." in log
    # The banner comes after uvicorn listens (children write to the same log),
    # and names this run's port, not the default one.
    assert log.count("TuneAIBot is running") == 1
    assert log.index(f"Uvicorn running on http://127.0.0.1:{port}") < log.index(
        "TuneAIBot is running")
    assert f"Health:             http://localhost:{port}/healthz" in log
    assert json.loads((tmp_path / "runner.json").read_text()) == {"port": port}


def _without_services(data_dir: Path) -> dict[str, str]:
    """An environment with no service URLs: what a developer's shell has."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SITE_PORT",
                          "TUNEAIBOT_EPHEMERAL_SERVICES"}}
    empty_env_file = data_dir.parent / f"{data_dir.name}.env"
    empty_env_file.write_text("")
    env.update(TUNEAIBOT_DATA_DIR=str(data_dir), TUNEAIBOT_ENV_FILE=str(empty_env_file))
    return env


def test_a_busy_port_is_one_clear_sentence_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "-m", "devtools.runner", "--port", str(port)],
            cwd=ROOT, env=_without_services(tmp_path / "data"), capture_output=True,
            text=True, timeout=120)

    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"scripts/start --port {port + 1}" in result.stderr
    assert "Migrating" not in result.stdout
    assert "TuneAIBot is running" not in result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists(), "no embedded service was started"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(f"{entry.name}: {command}")
    return found


def test_a_one_off_command_leaves_no_embedded_service_running():
    # Under the project (as .data/ is): the embedded PostgreSQL runs as its
    # own user when we are root, and must reach its folder.
    parent = ROOT / ".data" / "test"
    parent.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="one-off-", dir=parent))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "devtools.embedded", "--", sys.executable, "manage.py",
             "showmigrations", "tenants"],
            cwd=ROOT, env=_without_services(data_dir), capture_output=True, text=True,
            timeout=300)

        assert result.returncode == 0, result.stderr
        assert "[ ] 0001_initial" in result.stdout, "the command ran against a database"
        assert (data_dir / "postgres").is_dir() and (data_dir / "redis").is_dir()
        left = _processes_mentioning(str(data_dir))
        assert not left, f"embedded services left running after the command: {left}"
    finally:
        for leftover in _processes_mentioning(str(data_dir)):  # never leak into other tests
            os.kill(int(leftover.split(":")[0]), signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)
        Path(f"{data_dir}.env").unlink(missing_ok=True)


def test_one_off_commands_print_the_port_of_the_last_start(worker_env, make_client, tmp_path):
    # scripts/start --port 8101 saved its port; scripts/manage list_clients
    # (with SITE_PORT unset) prints the URLs of that run.
    made = make_client("port")
    (tmp_path / "runner.json").write_text(json.dumps({"port": 8101}))
    env = {key: value for key, value in worker_env.items()
           if key not in {"SITE_PORT", "TUNEAIBOT_EPHEMERAL_SERVICES"}}
    env.update(TUNEAIBOT_DATA_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "-m", "devtools.embedded", "--", sys.executable, "manage.py",
         "list_clients"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines()
                if line.startswith(made.client.slug))
    assert line.endswith(f"://{made.domain.domain}:8101/")


def test_the_demo_logins_name_the_port_of_this_run(live_db, settings, monkeypatch, tmp_path):
    from django.db import connection

    from devtools.demo import DEMO_SLUG, ensure_demo
    from tenants import services
    from tenants.members.models import User
    from tenants.models import Client

    monkeypatch.delenv("TUNEAIBOT_EPHEMERAL_SERVICES", raising=False)
    monkeypatch.setenv("TUNEAIBOT_DATA_DIR", str(tmp_path))
    assert not Client.objects.filter(slug=DEMO_SLUG).exists()
    staff_before = set(User.objects.values_list("pk", flat=True))
    try:
        settings.SITE_PORT = "8101"
        first = ensure_demo()
        settings.SITE_PORT = "8102"  # the next scripts/start, on another port
        again = ensure_demo()
    finally:
        for client in Client.objects.filter(slug=DEMO_SLUG):
            services.delete_client(client=client)
        added = list(User.objects.exclude(pk__in=staff_before).values_list("pk", flat=True))
        if added:  # the platform's staff login it made (no chat tables in public)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = ANY(%s)",
                               [added])

    assert ":8101/" in first.site and ":8101/" in first.staff_site
    assert ":8102/" in again.site and ":8102/" in again.staff_site
    assert again.admin_password == first.admin_password, "the same logins, reused"
    saved = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert ":8102/" in saved["site"] and ":8102/" in saved["staff_site"]
