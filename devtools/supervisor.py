"""Keeps the development runner's processes alive.

A child that exits while the runner is not stopping is started again after a
back-off (1 s, doubling up to 30 s; back to 1 s once it has run for a minute),
with a log line each time, so one crashed worker never takes the app (or the
embedded services) down. Production uses a process manager instead (README:
"Running it in production").
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None
    restarts: int = 0
    extra: dict = field(default_factory=dict)


class Supervisor:
    def __init__(self, *, env: dict[str, str], log: Callable[[str], None]) -> None:
        self.env = env
        self.log = log
        self.children: dict[str, Child] = {}

    def add(self, name: str, command: list[str]) -> None:
        self.children[name] = Child(name, command)

    def start_all(self) -> None:
        for child in self.children.values():
            self._start(child)

    def _start(self, child: Child) -> None:
        # Own session: Ctrl-C reaches only the runner, which stops children in order.
        child.process = subprocess.Popen(child.command, env=self.env, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None

    def check(self) -> None:
        """Restart what exited, each after its back-off; call it often."""
        now = time.monotonic()
        for child in self.children.values():
            process = child.process
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.log(f"{child.name}: restarting (restart #{child.restarts}).")
                    self._start(child)
                continue
            if process is None or process.poll() is None:
                if process is not None and now - child.started_at >= STABLE_AFTER_SECONDS:
                    child.backoff = FIRST_BACKOFF_SECONDS
                continue
            self.log(f"{child.name} exited with code {process.returncode}; restarting it in "
                     f"{child.backoff:.0f} s (the rest keeps running).")
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, MAX_BACKOFF_SECONDS)

    def stop_all(self, *, timeout: float = 15) -> None:
        for child in self.children.values():
            if child.process and child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            if not child.process:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
