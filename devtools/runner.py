"""Run the whole app in one command: embedded services, migrations, demo client,
workers, web server (what scripts/start runs).

    python -m devtools.runner [--port 8000] [--local-model] ...

Development only: no app imports this module. The port is checked before
anything starts; the banner is printed once the web server answers /healthz.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

# Idle keep-alive connections are closed by the server only after clients
# (browsers, proxies, httpx: 5 s) have stopped reusing them: with equal timeouts
# a request sent just as the server closes its connection fails.
KEEP_ALIVE_SECONDS = 75

# Workers need no gossip or mingle (nothing here uses worker events), and
# celery's gossip step logs an error on every broker reconnect.
WORKER_FLAGS = ("--without-gossip", "--without-mingle")

# How long the banner waits for the web server to answer /healthz.
WEB_READY_SECONDS = 180



def web_command(*, host: str, port: int, access_log: bool = True) -> list[str]:
    """How the web server runs: here, in the tests and in the benchmarks."""
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", host,
               "--port", str(port), "--lifespan", "off", "--timeout-graceful-shutdown", "5",
               "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS)]
    return command if access_log else [*command, "--no-access-log"]


def port_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen on host:port, or None if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds (SO_REUSEADDR): a port in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"Port {port} on {host} is already in use (is TuneAIBot already "
                        f"running?). Stop the other program, or choose another port: "
                        f"scripts/start --port {port + 1}")
            return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/start",
        description="Start TuneAIBot: embedded services where no URL is set, migrations, "
                    "the demo client, workers and the web server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None,
                        help="web server port (default: SITE_PORT, else 8000)")
    parser.add_argument("--llm-concurrency", type=int, default=200,
                        help="Concurrent model streams in the llm worker (threads)")
    parser.add_argument("--no-demo", action="store_true", help="Do not create the demo client")
    parser.add_argument("--local-model", action="store_true",
                        help="Answer with the local OpenAI-compatible test server "
                        "(echoes messages; no real model) instead of OPENAI_API_KEY")
    parser.add_argument("--local-model-port", type=int, default=8099)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    port = args.port or int(os.environ.get("SITE_PORT") or 8000)
    # Before anything starts: a busy port is one clear sentence, not a second
    # set of workers and a raw uvicorn error.
    problem = port_problem(args.host, port)
    if problem is None and args.local_model:
        problem = port_problem("127.0.0.1", args.local_model_port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    # Every URL this run prints or saves (banner, demo credentials, the
    # children's) carries this port.
    os.environ["SITE_PORT"] = str(port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    from devtools import embedded

    try:
        started = embedded.ensure_services()
    except Exception as exc:  # noqa: BLE001 - one clear sentence, then stop
        print(f"Could not start the embedded services: {exc}", file=sys.stderr)
        return 1
    try:
        return _run(args, port)
    finally:
        if "Redis" in started and embedded.started_redis:
            embedded.stop_redis()


def _run(args: argparse.Namespace, port: int) -> int:
    import django

    django.setup()
    from django.conf import settings

    from devtools.demo import ensure_demo
    from devtools.embedded import RUNNER_STATE, data_root
    from devtools.supervisor import Supervisor
    from tenants import services

    (data_root() / RUNNER_STATE).write_text(json.dumps({"port": port}))
    print("Migrating the platform, the client template and every client...", flush=True)
    report = services.migrate_all(on_schema=lambda name, applied, error: print(
        f"  {name}: " + (f"FAILED ({error.splitlines()[0]})" if error else
                         f"{applied} migration(s) applied" if applied else "up to date"),
        flush=True))
    if not report.ok:
        print(f"{len(report.failed)} schema(s) could not be migrated: "
              f"{', '.join(report.failed)}. Fix the cause (see above) and start again; "
              "migrating continues where it stopped.", file=sys.stderr)
        return 1
    credentials = None if args.no_demo else ensure_demo()

    child_env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "SITE_PORT": str(port),
    }
    python = sys.executable
    commands = {}
    if args.local_model:
        from devtools.local_model import LOCAL_API_KEY

        commands["local-model"] = [python, "-m", "devtools.local_model",
                                   "--port", str(args.local_model_port), "--token-delay", "0.03"]
        child_env["OPENAI_API_KEY"] = LOCAL_API_KEY
        child_env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{args.local_model_port}/v1"
    model_mode = (
        f"local test server at {child_env['OPENAI_BASE_URL']} (echoes; not a real model)"
        if args.local_model else
        (f"OpenAI API ({settings.OPENAI_BASE_URL or 'api.openai.com'})"
         if settings.OPENAI_API_KEY else
         "offline mode: no OPENAI_API_KEY (set it, add a key in Bot settings, "
         "or run with --local-model)")
    )
    commands.update({
        "web": web_command(host=args.host, port=port),
        "worker-llm": [python, "-m", "celery", "-A", "config", "worker", "-Q", "llm",
                       "-P", "threads", "-c", str(args.llm_concurrency), "-n", "llm@%h",
                       "--loglevel", "INFO", *WORKER_FLAGS],
        "worker-main": [python, "-m", "celery", "-A", "config", "worker",
                        "-Q", "default,ingest", "-P", "prefork", "-c", "2", "-n", "main@%h",
                        "--loglevel", "INFO", *WORKER_FLAGS],
        # Periodic jobs (retention purge), sent to every client's schema.
        "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                 "--schedule", str(data_root() / "celerybeat-schedule")],
    })
    supervisor = Supervisor(env=child_env, log=lambda line: print(line, file=sys.stderr))
    for name, command in commands.items():
        supervisor.add(name, command)

    stopping = False

    def request_stop(signum, frame):  # noqa: ANN001 - signal handler
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    supervisor.start_all()
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + WEB_READY_SECONDS
        announced = False
        while not stopping:
            supervisor.check()  # a crashed child is restarted, the rest keeps serving
            if not announced and _answers(health):
                _print_banner(port, credentials, model_mode)
                announced = True
            elif not announced and time.monotonic() > deadline:
                print(f"The web server does not answer {health} yet; see the log above.",
                      file=sys.stderr)
                deadline = float("inf")
            time.sleep(0.3)
    finally:
        print("Stopping web server and workers...", flush=True)
        supervisor.stop_all()
        print("Stopped. Your data is kept in .data/ for the next run.", flush=True)
    return 0


def _answers(url: str) -> bool:
    """The web server answers (any status: 503 means it serves but a service is down)."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own http URL
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _print_banner(port: int, credentials, model_mode: str) -> None:  # noqa: ANN001
    line = "=" * 72
    lines = [line, "TuneAIBot is running. Press Ctrl-C to stop."]
    if credentials:
        lines += [
            f"  Demo client site:   {credentials.site}",
            f"    tenant admin:     {credentials.admin_email} / {credentials.admin_password}",
            f"    employee:         {credentials.employee_email} / "
            f"{credentials.employee_password}",
            "    (two-step sign-in is off for this demo client; every other client asks "
            "its tenant admins)",
            f"  Platform admin:     {credentials.staff_site}",
            f"    staff:            {credentials.staff_email} / {credentials.staff_password}",
        ]
    lines += [
        f"  Model:              {model_mode}",
        f"  Health:             http://localhost:{port}/healthz",
        "  (*.localhost resolves to this machine in modern browsers.)",
        line,
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
