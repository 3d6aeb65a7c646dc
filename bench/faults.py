"""Faults: does a crash, an outage, a bad model or a double click lose an answer,
duplicate one, leave one stuck, or take the app down?

    python bench/faults.py [--only kill-llm,redis] [--answers 3] [--production-timeouts]

Runs the real app as a developer does: `python -m devtools.runner
--local-model`, what scripts/start runs (the supervising runner,
devtools/supervisor.py, which restarts a crashed child
with back-off) with web, llm worker, main worker, beat and the local
OpenAI-compatible model server as its children; PostgreSQL (embedded, in
.data/bench-faults, or DATABASE_URL) is reached through an OutageProxy so it
can be cut off, and Redis is a redis-server of the bench's own (append-only,
as production should run it) so it can be restarted. All traffic is on
loopback.

Each scenario sends a few messages as an employee over HTTP (with a request
id, as the browser does), reads each answer's event stream the way the
browser's EventSource does (reconnecting with Last-Event-ID after an error),
injects its fault once the answers are streaming, and then compares what the
employee saw with what is stored:

- lost:        the employee saw an answer finish that is not stored as shown,
               or a message accepted by the server has no question stored;
- duplicated:  a question stored twice, or answer text shown twice;
- stuck:       an answer still pending/streaming when the scenario ends;
- seconds:     from pressing Send to the outcome (done or failed, with Retry)
               on screen, the slowest of the scenario's answers;
- app up:      the runner is still running, every child it had is running
               again, and a message sent after the fault is answered.

Every scenario has its own time limit; an answer without an outcome by then
counts as stuck. By default the model timeouts are shortened so the whole run
takes minutes (the values are printed); --production-timeouts keeps the app's
defaults (a hanging model then takes ~93 s, a slow drip up to 300 s).
Everything it started is stopped at the end, even on error. Logs:
.data/bench-faults/faults-bench/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/bench-faults")
os.environ.setdefault("TUNEAIBOT_DEV", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
DATA = ROOT / os.environ["TUNEAIBOT_DATA_DIR"]
LOGS = DATA / "faults-bench"
LOGS.mkdir(parents=True, exist_ok=True)

from tests.faults.faultsinfra_support import OwnRedis  # noqa: E402

# Redis of the bench's own (restartable); PostgreSQL embedded unless given.
OWN_REDIS = None
if not os.environ.get("REDIS_URL"):
    OWN_REDIS = OwnRedis(DATA / "own-redis").start()
    os.environ["REDIS_URL"] = OWN_REDIS.url

from devtools.embedded import ensure_services  # noqa: E402

ensure_services(stop_at_exit=True)

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from chat.models import Message  # noqa: E402
from devtools.processes import children_of, free_port  # noqa: E402
from tenants import services  # noqa: E402
from tenants.models import Client  # noqa: E402
from tests.support.proxy import OutageProxy  # noqa: E402
from tests.support.site import END_EVENTS, Event, Site, text_of  # noqa: E402

PREFIX = "faultbench-"
PASSWORD = "correct horse battery staple"
# Shortened so a run takes minutes; --production-timeouts keeps the app's own.
QUICK_TIMEOUTS = {
    "MODEL_TIMEOUT_SECONDS": "10",
    "CHAT_CHUNK_IDLE_SECONDS": "10",
    "CHAT_ANSWER_DEADLINE_SECONDS": "40",
    "CHAT_RETRY_WAIT_SECONDS": "20",
}
SLOW_ANSWER = "[[token-delay: 0.15]] [[tokens: 40]]"  # ~6 s: time to break something


CHILD_MARKERS = {
    "web": "uvicorn", "worker-llm": "-Q llm", "worker-main": "-Q default,ingest",
    "beat": " beat ", "local-model": "devtools.local_model",
}


class App:
    """devtools.runner with its children, PostgreSQL behind a proxy, our own Redis."""

    def __init__(self, *, production_timeouts: bool) -> None:
        self.port = free_port()
        self.model_port = free_port()
        self.proxy = OutageProxy.for_postgres_url(settings.DATABASE_URL).up()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.proxy.proxied_postgres_url(settings.DATABASE_URL),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
            "CHAT_RATE_LIMIT_PER_USER": "100000/minute",
            "CHAT_RATE_LIMIT_PER_CLIENT": "1000000/minute",
            **({} if production_timeouts else QUICK_TIMEOUTS),
        }
        self.timeouts = {name: self.env.get(name, "(app default)") for name in QUICK_TIMEOUTS}
        self.runner: subprocess.Popen | None = None
        self.log_path = LOGS / "runner.log"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.runner = subprocess.Popen(
                [sys.executable, "-m", "devtools.runner", "--port", str(self.port), "--no-demo",
                 "--llm-concurrency", "32", "--local-model",
                 "--local-model-port", str(self.model_port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.wait(lambda: self.healthy() and len(self.children()) == len(CHILD_MARKERS),
                  timeout=180, what="the app starting")
        self.wait(lambda: b"ready." in self.log_path.read_bytes(), timeout=60,
                  what="the workers being ready")

    def stop(self) -> None:
        if self.runner and self.runner.poll() is None:
            self.runner.send_signal(signal.SIGTERM)
            try:
                self.runner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.runner.pid, signal.SIGKILL)
        for pid in children_of(self.runner.pid) if self.runner else {}:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.proxy.down()

    def children(self) -> dict[str, int]:
        found = {}
        for pid, command in children_of(self.runner.pid).items():
            for name, marker in CHILD_MARKERS.items():
                if marker in f" {command} ":
                    found[name] = pid
        return found

    def kill(self, name: str) -> int:
        pid = self.children()[name]
        os.kill(pid, signal.SIGKILL)
        return pid

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=3,
                             headers={"Host": settings.BASE_DOMAIN}).status_code == 200
        except httpx.HTTPError:
            return False

    def model(self, **behaviour) -> None:
        httpx.post(f"http://127.0.0.1:{self.model_port}/_control", json=behaviour,
                   timeout=5).raise_for_status()

    def wait(self, predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.runner.poll() is not None:
                raise RuntimeError(f"the runner exited; see {self.log_path}")
            if predicate():
                return
            time.sleep(0.3)
        raise RuntimeError(f"{what} did not happen within {timeout} s; see {self.log_path}")


@dataclass
class Answer:
    text: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = 0.0
    accepted: dict | None = None  # the send response's JSON (201)
    refusal: str = ""
    events: list[Event] = field(default_factory=list)
    ended_after: float | None = None

    def __post_init__(self) -> None:
        self.first_delta = threading.Event()

    @property
    def end(self) -> str | None:
        return self.events[-1].event if self.events and self.events[-1].event in END_EVENTS \
            else None


def send(site: Site, answer: Answer) -> None:
    answer.started = time.monotonic()
    response = site.http.post("/send/", data={"text": answer.text,
                                              "request_id": answer.request_id},
                              headers={"X-CSRFToken": site.csrf(), "Accept": "application/json"})
    if response.status_code in (200, 201):
        answer.accepted = response.json()
    else:
        answer.refusal = f"{response.status_code} {response.text[:120]}"


def watch(site: Site, answer: Answer, *, deadline: float) -> None:
    """Read the answer's events as EventSource does: reconnect with Last-Event-ID."""
    if not answer.accepted:
        return
    url = answer.accepted["answer"]["stream_url"]
    while time.monotonic() < deadline and answer.end is None:
        last_id = next((e.id for e in reversed(answer.events) if e.id), None)
        try:
            with site.http.stream("GET", url, timeout=httpx.Timeout(10, read=60), headers={
                    "Accept": "text/event-stream",
                    **({"Last-Event-ID": last_id} if last_id else {})}) as response:
                if response.status_code != 200:
                    raise httpx.HTTPError(f"stream answered {response.status_code}")
                current: dict = {}
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        return
                    if not line:
                        if "event" in current:
                            event = Event(current.get("id"), current["event"],
                                          json.loads(current.get("data", "{}") or "{}"))
                            answer.events.append(event)
                            if event.event == "delta":
                                answer.first_delta.set()
                            if event.event in END_EVENTS:
                                answer.ended_after = time.monotonic() - answer.started
                                answer.first_delta.set()
                                return
                        current = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(": ")
                        current[key] = value
        except (httpx.HTTPError, json.JSONDecodeError, OSError):
            pass
        time.sleep(1)  # EventSource's reconnection delay (about a second or three)


@dataclass
class Row:
    fault: str
    tried: int = 0
    done: int = 0
    failed: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    seconds: float = 0.0
    app_up: bool = False
    note: str = ""


class Bench:
    def __init__(self, app: App, client: Client, host: str, answers: int) -> None:
        self.app, self.client, self.host, self.answers = app, client, host, answers

    def site(self) -> Site:
        """A signed-in employee's browser (retried while the app is still recovering)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return Site(f"http://{self.host}:{self.app.port}").login("admin@example.com",
                                                                         PASSWORD)
            except (KeyError, AssertionError, httpx.HTTPError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def run(self, fault: str, *, texts: list[str], inject: Callable[[], str | None] | None,
            limit: float, concurrent_duplicates: int = 1) -> Row:
        site = self.site()
        row = Row(fault)
        answers = [Answer(text) for text in texts]
        deadline = time.monotonic() + limit
        threads = []
        for answer in answers:
            copies = [answer] + [Answer(answer.text, request_id=answer.request_id)
                                 for _ in range(concurrent_duplicates - 1)]
            barrier = threading.Barrier(len(copies))

            def post(copy: Answer, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                send(site, copy)

            senders = [threading.Thread(target=post, args=(copy,)) for copy in copies]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join()
            if concurrent_duplicates > 1:
                row.note = _duplicate_note(copies)
            reader = threading.Thread(target=watch, args=(site, answer),
                                      kwargs={"deadline": deadline}, daemon=True)
            reader.start()
            threads.append(reader)
        if inject is not None:
            for answer in answers:
                answer.first_delta.wait(timeout=30)
            note = inject()
            if note:
                row.note = note
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
        self._settle(answers, deadline=deadline)
        self._tally(row, answers)
        row.app_up = self._recovered()
        return row

    def _settle(self, answers: list[Answer], *, deadline: float) -> None:
        """Give the database until the scenario's limit to agree that every answer ended
        (a save or a redo may finish just after the screen showed the outcome)."""
        ids = [a.accepted["answer"]["id"] for a in answers if a.accepted]
        while time.monotonic() < deadline:
            with schema_context(self.client.schema_name):
                open_ = Message.objects.filter(pk__in=ids).exclude(
                    status__in=("done", "failed", "cancelled")).count()
            if not open_:
                return
            time.sleep(0.5)

    def _tally(self, row: Row, answers: list[Answer]) -> None:
        row.tried = len(answers)
        with schema_context(self.client.schema_name):
            for answer in answers:
                if not answer.accepted:  # refused with a reason: nothing to lose
                    row.failed += 1
                    row.note = row.note or f"send refused: {answer.refusal}"
                    continue
                stored = Message.objects.filter(pk=answer.accepted["answer"]["id"]).first()
                # Each run's texts are unique: the same question stored twice
                # (in one chat or in two new ones) is a duplicate.
                questions = Message.objects.filter(role="user", content=answer.text).count()
                row.duplicated += max(0, questions - 1)
                if stored is None or questions == 0:
                    row.lost += 1
                    continue
                if stored.status not in ("done", "failed", "cancelled"):
                    row.stuck += 1
                shown = text_of(answer.events)
                if answer.end == "done":
                    row.done += 1
                    if stored.status != "done" or stored.content != shown:
                        if stored.content and shown.count(stored.content) > 1:
                            row.duplicated += 1
                        else:
                            row.lost += 1
                elif answer.end in ("failed", "cancelled"):
                    row.failed += 1
                elif stored.status in ("done", "failed"):
                    row.stuck += 1  # finished in the database, never on the screen
                if answer.ended_after is not None:
                    row.seconds = max(row.seconds, answer.ended_after)

    def _recovered(self) -> bool:
        """The runner and all its children run, and a new message is answered."""
        try:
            self.app.wait(lambda: len(self.app.children()) == len(CHILD_MARKERS)
                          and self.app.healthy(), timeout=90, what="recovery")
            site = self.site()
            probe = Answer("Are you back? [[tokens: 3]]")
            send(site, probe)
            watch(site, probe, deadline=time.monotonic() + 90)
            return probe.end == "done"
        except (RuntimeError, httpx.HTTPError, AssertionError):
            return False


def _duplicate_note(copies: list[Answer]) -> str:
    ids = {copy.accepted["answer"]["id"] for copy in copies if copy.accepted}
    refused = [copy.refusal for copy in copies if not copy.accepted]
    return (f"{len(copies)} identical POSTs at once -> {len(ids)} answer(s)"
            + (f", {len(refused)} refused" if refused else ""))


def scenarios(bench: Bench, app: App, n: int) -> dict[str, Callable[[], Row]]:
    slow = [f"Question {i} {SLOW_ANSWER}" for i in range(n)]

    def fresh(texts: list[str]) -> list[str]:  # unique text per run: duplicates are countable
        tag = uuid.uuid4().hex[:6]
        return [f"{text} ({tag})" for text in texts]

    def redis_restart() -> str:
        OWN_REDIS.stop()
        time.sleep(2)
        OWN_REDIS.start()
        return "Redis stopped for 2 s"

    def postgres_cut() -> str:
        app.proxy.down()
        time.sleep(5)
        app.proxy.up()
        return "PostgreSQL unreachable for 5 s"

    def run_with_model(fault: str, behaviour: dict, texts: list[str], limit: float) -> Row:
        app.model(**behaviour)
        try:
            return bench.run(fault, texts=fresh(texts), inject=None, limit=limit)
        finally:
            app.model(reset=True)

    table = {
        "kill-llm": lambda: bench.run("llm worker kill -9 mid-answer", texts=fresh(slow),
                                      inject=lambda: f"killed pid {app.kill('worker-llm')}",
                                      limit=150),
        "kill-beat": lambda: bench.run("beat kill -9", texts=fresh(slow),
                                       inject=lambda: f"killed pid {app.kill('beat')}",
                                       limit=90),
        "kill-web": lambda: bench.run("web kill -9 (runner restarts it)", texts=fresh(slow),
                                      inject=lambda: f"killed pid {app.kill('web')}",
                                      limit=120),
        "redis": lambda: bench.run("Redis restarted mid-answer", texts=fresh(slow),
                                   inject=redis_restart, limit=150),
        "postgres": lambda: bench.run("PostgreSQL cut off mid-answer", texts=fresh(slow),
                                      inject=postgres_cut, limit=180),
        "429": lambda: run_with_model("upstream 429, Retry-After 3 s",
                                      {"fail_next": 1, "fail_status": 429, "retry_after": 3},
                                      ["Rate limited?"], 120),
        "500": lambda: run_with_model("upstream 500 (once)",
                                      {"fail_next": 1, "fail_status": 500, "retry_after": None},
                                      ["Server error?"], 120),
        "hang": lambda: bench.run("upstream hangs", texts=fresh(["Hello? [[hang]]"]),
                                  inject=None, limit=240),
        "stall": lambda: bench.run("upstream stalls after 3 tokens",
                                   texts=fresh(["Stall [[stall: 3]] [[tokens: 20]]"]),
                                   inject=None, limit=180),
        "truncate": lambda: bench.run("stream cut after 3 tokens",
                                      texts=fresh(["Cut [[truncate: 3]] [[tokens: 20]]"]),
                                      inject=None, limit=120),
        "truncate-0": lambda: bench.run("stream cut before any text",
                                        texts=fresh(["Cut early [[truncate: 0]]"]),
                                        inject=None, limit=120),
        "drip": lambda: bench.run("slow drip (a token every 6 s)",
                                  texts=fresh(["Drip [[token-delay: 6]] [[tokens: 100]]"]),
                                  inject=None, limit=400),
        "malformed": lambda: bench.run("malformed chunk after 3 tokens",
                                       texts=fresh(["Bad chunk [[malformed: 3]] [[tokens: 20]]"]),
                                       inject=None, limit=120),
        "double-submit": lambda: bench.run("double submit (same request id, 0 ms apart)",
                                           texts=fresh(["Sent twice [[tokens: 5]]"]),
                                           inject=None, limit=90, concurrent_duplicates=2),
    }
    return table


def print_table(rows: list[Row]) -> None:
    header = ("fault", "tried", "done", "failed", "lost", "dup", "stuck", "outcome s", "app up")
    widths = [max(len(header[0]), *(len(r.fault) for r in rows)), 5, 4, 6, 4, 3, 5, 9, 6]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for r in rows:
        cells = (r.fault, r.tried, r.done, r.failed, r.lost, r.duplicated, r.stuck,
                 f"{r.seconds:.1f}", "yes" if r.app_up else "NO")
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    notes = [f"  {r.fault}: {r.note}" for r in rows if r.note]
    if notes:
        print("notes:")
        print("\n".join(notes))
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("lost", "duplicated", "stuck")}
    down = [r.fault for r in rows if not r.app_up]
    print(f"total: {totals['lost']} lost, {totals['duplicated']} duplicated, "
          f"{totals['stuck']} stuck; app down after: {', '.join(down) or 'none'}")


def provision() -> tuple[Client, str]:
    connection.set_schema_to_public()
    for old in Client.objects.filter(slug__startswith=PREFIX):
        services.delete_client(client=old)
    result = services.create_client(
        slug=f"{PREFIX}{uuid.uuid4().hex[:6]}", name="Faults bench",
        admin_email="admin@example.com", admin_password=PASSWORD,
        second_factor="off")
    return result.client, result.domain.domain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated scenario keys (default: all)")
    parser.add_argument("--answers", type=int, default=3,
                        help="answers in flight in the process-fault scenarios")
    parser.add_argument("--production-timeouts", action="store_true",
                        help="keep the app's default model timeouts and answer deadline")
    args = parser.parse_args()

    app = App(production_timeouts=args.production_timeouts)
    client = None
    rows: list[Row] = []
    try:
        print(f"Starting the app (devtools.runner; logs in {LOGS})...", flush=True)
        app.start()
        client, host = provision()
        bench = Bench(app, client, host, args.answers)
        table = scenarios(bench, app, args.answers)
        keys = args.only.split(",") if args.only else list(table)
        print("Timeouts: " + ", ".join(f"{k}={v}" for k, v in app.timeouts.items()), flush=True)
        for key in keys:
            started = time.monotonic()
            try:
                row = table[key]()
            except Exception as exc:  # noqa: BLE001 - a scenario that breaks is a result too
                import traceback

                with (LOGS / "scenario-errors.log").open("a") as errors:
                    errors.write(f"--- {key}\n{traceback.format_exc()}\n")
                row = Row(key, note=f"scenario error: {exc.__class__.__name__}: {exc} "
                                    f"(traceback in {LOGS / 'scenario-errors.log'})")
            rows.append(row)
            print(f"  {row.fault}: {row.done} done, {row.failed} failed, {row.lost} lost, "
                  f"{row.duplicated} duplicated, {row.stuck} stuck, app "
                  f"{'up' if row.app_up else 'DOWN'} ({time.monotonic() - started:.0f} s)",
                  flush=True)
    finally:
        app.stop()
        if client is not None:
            connection.set_schema_to_public()
            with contextlib.suppress(Exception):
                services.delete_client(client=client)
        if OWN_REDIS is not None:
            OWN_REDIS.stop()
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
