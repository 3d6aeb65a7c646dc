"""The development runner keeps the app up when one of its processes dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port


def _children(pid: int) -> dict[int, str]:
    """Direct children of a process: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                    b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def _wait(predicate, *, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen; runner log:\n"
                         f"{log.read_text(errors='replace')[-4000:]}")


def test_a_killed_worker_is_restarted_and_the_app_stays_up(worker_env, tmp_path):
    port = free_port()
    env = {key: value for key, value in worker_env.items()
           if key != "TUNEAIBOT_EPHEMERAL_SERVICES"}
    env.update(TUNEAIBOT_DATA_DIR=str(tmp_path))
    log_path = tmp_path / "runner.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "manage.py", "up", "--port", str(port), "--no-demo",
             "--llm-concurrency", "8"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def llm_worker() -> int | None:
        return next((pid for pid, cmd in _children(runner.pid).items() if "-Q llm" in cmd),
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
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=60)
    leftovers = _children(runner.pid)
    assert not leftovers, f"children left after the runner stopped: {leftovers}"
    assert "Stopped." in log_path.read_text()
