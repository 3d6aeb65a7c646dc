"""Run the whole app in one command: migrations, demo client, workers, web server."""

from __future__ import annotations

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from devtools.demo import ensure_demo
from devtools.embedded import data_root
from devtools.supervisor import Supervisor
from tenants import services

# Idle keep-alive connections are closed by the server only after clients
# (browsers, proxies, httpx: 5 s) have stopped reusing them: with equal timeouts
# a request sent just as the server closes its connection fails.
KEEP_ALIVE_SECONDS = 75

# Workers need no gossip or mingle (nothing here uses worker events), and
# celery's gossip step logs an error on every broker reconnect.
WORKER_FLAGS = ("--without-gossip", "--without-mingle")


def web_command(*, host: str, port: int, access_log: bool = True) -> list[str]:
    """How the web server runs: here, in the tests and in the benchmarks."""
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", host,
               "--port", str(port), "--lifespan", "off", "--timeout-graceful-shutdown", "5",
               "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS)]
    return command if access_log else [*command, "--no-access-log"]


class Command(BaseCommand):
    help = ("Start TuneAIBot: migrations, the demo client, workers and the web server "
            "(scripts/start runs it with embedded services when no URLs are set).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(settings.SITE_PORT or 8000))
        parser.add_argument("--llm-concurrency", type=int, default=200,
                            help="Concurrent model streams in the llm worker (threads)")
        parser.add_argument("--no-demo", action="store_true", help="Do not create the demo client")
        parser.add_argument("--local-model", action="store_true",
                            help="Answer with the local OpenAI-compatible test server "
                            "(echoes messages; no real model) instead of OPENAI_API_KEY")
        parser.add_argument("--local-model-port", type=int, default=8099)

    def handle(self, *args, host, port, llm_concurrency, no_demo, local_model,
               local_model_port, **options):
        self.stdout.write("Migrating the platform, the client template and every client...")
        services.migrate_all()
        credentials = None if no_demo else ensure_demo()

        child_env = {
            **os.environ,
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "SITE_PORT": str(port),
        }
        python = sys.executable
        commands = {}
        if local_model:
            from devtools.local_model_server import LOCAL_API_KEY

            commands["local-model"] = [python, "-m", "devtools.local_model_server",
                                       "--port", str(local_model_port), "--token-delay", "0.03"]
            child_env["OPENAI_API_KEY"] = LOCAL_API_KEY
            child_env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{local_model_port}/v1"
        self.model_mode = (
            f"local test server at {child_env['OPENAI_BASE_URL']} (echoes; not a real model)"
            if local_model else
            (f"OpenAI API ({settings.OPENAI_BASE_URL or 'api.openai.com'})"
             if settings.OPENAI_API_KEY else
             "offline mode: no OPENAI_API_KEY (set it, add a key in Bot settings, "
             "or run with --local-model)")
        )
        commands.update({
            "web": web_command(host=host, port=port),
            "worker-llm": [python, "-m", "celery", "-A", "config", "worker", "-Q", "llm",
                           "-P", "threads", "-c", str(llm_concurrency), "-n", "llm@%h",
                           "--loglevel", "INFO", *WORKER_FLAGS],
            "worker-main": [python, "-m", "celery", "-A", "config", "worker",
                            "-Q", "default,ingest", "-P", "prefork", "-c", "2", "-n", "main@%h",
                            "--loglevel", "INFO", *WORKER_FLAGS],
            # Periodic jobs (retention purge), sent to every client's schema.
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                     "--schedule", str(data_root() / "celerybeat-schedule")],
        })
        supervisor = Supervisor(env=child_env, log=self.stderr.write)
        for name, command in commands.items():
            supervisor.add(name, command)
        supervisor.start_all()

        self._print_banner(port, credentials)
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stopping:
                supervisor.check()  # a crashed child is restarted, the rest keeps serving
                time.sleep(0.3)
        finally:
            self.stdout.write("Stopping web server and workers...")
            supervisor.stop_all()
            self.stdout.write("Stopped. Your data is kept in .data/ for the next run.")

    def _print_banner(self, port, credentials):
        line = "=" * 72
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("TuneAIBot is running. Press Ctrl-C to stop."))
        if credentials:
            self.stdout.write(f"  Demo client site:   {credentials.site}")
            self.stdout.write(f"    tenant admin:     {credentials.admin_email} / "
                              f"{credentials.admin_password}")
            self.stdout.write(f"    employee:         {credentials.employee_email} / "
                              f"{credentials.employee_password}")
            self.stdout.write(f"  Platform admin:     {credentials.staff_site}")
            self.stdout.write(f"    staff:            {credentials.staff_email} / "
                              f"{credentials.staff_password}")
        self.stdout.write(f"  Model:              {self.model_mode}")
        self.stdout.write(f"  Health:             http://localhost:{port}/healthz")
        self.stdout.write("  (*.localhost resolves to this machine in modern browsers.)")
        self.stdout.write(line)

