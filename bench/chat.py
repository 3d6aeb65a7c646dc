"""Time to first token: the whole product versus the openai SDK calling the model directly.

    python bench/chat.py [--levels 1,100,300] [--token-delay 0.025] [--tokens 200]
    python bench/chat.py --levels '' --rate 10 --duration 30      # open loop
    python bench/chat.py --levels '' --scenarios noisy,open-streams --open-streams 1000
    python bench/chat.py --web-procs 2 --llm-procs 2               # several processes
    python bench/chat.py --levels '' --scenarios share             # one person floods
    python bench/chat.py --api                                     # also the /v1 API

The default profile is a real answer: 200 tokens at 25 ms each (~5 s).
Closed loop (--levels): N conversations each ask, wait for the answer, ask
again. Open loop (--rate): Poisson arrivals at a rate, whatever the answers'
speed. Scenarios: `noisy` (client A keeps --noisy-flood conversations busy,
client B's TTFT measured against B alone) and `open-streams` (client A holds
--open-streams slow streams open; client B's page latency against idle) and
`share` (one person of a client limited to --share-limit keeps --share-flood
long answers in flight; a colleague's TTFT against the colleague alone). At
the end each target of issue 11 this run measured prints as met or MISSED.

Starts its own stack, as production runs it: the local OpenAI-compatible model
server, `uvicorn config.asgi:application` (--web-procs: `--workers N`) and
--llm-procs `celery -A config worker -Q llm -P threads -c 200` workers, against the
embedded PostgreSQL and Redis in .data/bench (or DATABASE_URL / REDIS_URL).
It creates one bench client with one employee per concurrent conversation
(the per-user rate limit is per person), then for each concurrency level:

- direct:  AsyncOpenAI -> model server; TTFT = request start to the first
           chunk with content.
- product: POST /send/ -> answer.stream_url -> SSE; TTFT = POST start to the
           first `event: delta`; read on until `done` / `failed`.

--api (issue 26): a third phase per level, the OpenAI-compatible API with
each employee's personal access token, through the official SDK
(AsyncOpenAI(base_url=<client site>/v1), stream=True); TTFT = request start
to the first chunk with content. Its p50 is compared with the browser path's.

Each of the N conversations sends R questions one after another (a new
conversation each time), so a level keeps N answers in flight. Added latency
is product minus direct, per percentile. The worker's Redis Stream entry ids
are Redis timestamps (same machine, same clock), which splits the product's
TTFT into: the web's POST, POST start -> worker starts streaming (enqueue,
queue, worker setup), the worker's own model TTFT, and Redis -> browser.

Also printed per level: CPU time per answer of every process (and how busy
the rest of the machine was meanwhile: other work skews every number), new
PostgreSQL connections, transactions and Redis commands per answer.

A few employees log in over HTTP (POST /accounts/login/ with the CSRF token);
the others get a session made directly, as Django's force_login does, because
each real password check costs ~0.25 s of web CPU by design. The model server
is the project's own (`python -m devtools.local_model`), run as a process.
`--profile` samples web and worker with py-spy (if on PATH; `--gil`: where Python
holds the CPU) during each product phase and writes the hottest functions
next to the logs. The run ends
within `--budget` seconds: phases still running are cut and their unfinished
answers counted as errors.

Everything it started is stopped and the bench client deleted at the end,
even on error. Logs of the child processes: .data/bench/chat-bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/bench")
os.environ.setdefault("TUNEAIBOT_DEV", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from devtools.embedded import ensure_services  # noqa: E402

ensure_services(stop_at_exit=True)  # embedded PostgreSQL/Redis where no URL is set

import django  # noqa: E402

django.setup()
for noisy in ("httpx", "httpx2", "openai"):  # a line per request would cost the bench CPU
    logging.getLogger(noisy).setLevel(logging.WARNING)

import httpx  # noqa: E402
import openai  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from chat import selectors  # noqa: E402
from devtools.processes import free_port  # noqa: E402
from devtools.runner import web_command  # noqa: E402
from tenants import services  # noqa: E402
from tenants.members.models import User  # noqa: E402
from tenants.members.services import create_member  # noqa: E402
from tenants.models import Client  # noqa: E402

PREFIX = "chatbench-"  # not "bench-": bench/tenants.py deletes every "bench-" client
PASSWORD = "chat-bench-password-123"
MODEL_KEY = "sk-chat-bench-local-0001"
LOG_DIR = ROOT / os.environ["TUNEAIBOT_DATA_DIR"] / "chat-bench"
QUESTION = "Question {n}: what does our travel policy say about booking trains?"
REQUEST_TIMEOUT = 60.0
END_EVENTS = {"done", "failed", "cancelled"}


# --------------------------------------------------------------------------- results


@dataclass
class Sample:
    ttft: float  # seconds
    total: float
    parts: dict[str, float] = field(default_factory=dict)  # product only, seconds


@dataclass
class Phase:
    samples: list[Sample] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core per process
    counts: dict[str, float] = field(default_factory=dict)  # PostgreSQL / Redis work

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall if self.wall else 0.0

    def ttft_ms(self) -> list[float]:
        return [s.ttft * 1000 for s in self.samples]

    def part_ms(self, name: str) -> list[float]:
        return [s.parts[name] * 1000 for s in self.samples if name in s.parts]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def stream_id_seconds(entry_id: str) -> float:
    """A Redis Stream id is `<unix ms>-<seq>`: when Redis stored the entry."""
    return int(entry_id.split("-", 1)[0]) / 1000


# --------------------------------------------------------------------------- processes


class Child:
    """A subprocess in its own session, logging to a file; stopped by its process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self.log_path.write_bytes(b"")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until(self, ready: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def pid_from(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(path.read_text().split()[0])
    return None


class Meter:
    """Per phase: CPU seconds of each process of the stack (exited children included,
    so the short-lived PostgreSQL backends count) as % of one core; and how many
    PostgreSQL sessions (new connections) and transactions, and Redis commands, ran."""

    def __init__(self, pids: dict[str, list[int | None]]) -> None:
        self.processes: dict[str, list[psutil.Process]] = {}
        for name, ids in pids.items():
            for pid in ids:
                with contextlib.suppress(psutil.Error, TypeError):
                    self.processes.setdefault(name, []).append(psutil.Process(pid))
        self.database = settings.DATABASES["default"]["NAME"]
        self.pg = psycopg.connect(settings.DATABASE_URL, autocommit=True)
        self.redis = redis.Redis.from_url(settings.REDIS_URL)

    def close(self) -> None:
        self.pg.close()
        self.redis.close()

    def _counts(self) -> dict[str, float]:
        sessions, xacts = self.pg.execute(
            "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = %s", [self.database]).fetchone()
        commands = self.redis.info("stats")["total_commands_processed"]
        by_command = {f"redis {name.removeprefix('cmdstat_')}": stats["calls"]
                      for name, stats in self.redis.info("commandstats").items()}
        return {"pg sessions": sessions, "pg xacts": xacts, "redis cmds": commands,
                **by_command}

    def _read(self) -> dict[str, float]:
        machine = psutil.cpu_times()
        values = {"machine": machine.user + machine.system + machine.nice + machine.irq
                  + machine.softirq + getattr(machine, "steal", 0.0)}
        for name, processes in self.processes.items():
            values[name] = 0.0
            for process in processes:
                try:
                    times = process.cpu_times()
                    values[name] += (times.user + times.system + times.children_user
                                     + times.children_system)
                    if name == "bench":  # its children are the other processes
                        continue
                    # Live children: PostgreSQL backends, uvicorn's --workers.
                    for child in process.children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            ct = child.cpu_times()
                            values[name] += ct.user + ct.system
                except psutil.Error:
                    values[name] = math.nan
        return values

    @contextlib.contextmanager
    def measure(self, phase: Phase) -> Iterator[None]:
        counts = self._counts()
        before, started = self._read(), time.monotonic()
        try:
            yield
        finally:
            wall = time.monotonic() - started
            after = self._read()
            time.sleep(0.6)  # backends flush their statistics about once a second
            phase.counts = {name: value - counts.get(name, 0)
                            for name, value in self._counts().items()}
            phase.cpu = {name: 100 * (after[name] - before[name]) / wall for name in before}
            ours = sum(v for k, v in phase.cpu.items() if k != "machine" and not math.isnan(v))
            phase.cpu["other"] = max(0.0, phase.cpu.pop("machine") - ours)


# --------------------------------------------------------------------------- load


class Employee:
    """One person with a browser: own cookies, own connections (a browser keeps
    up to 6 per site; one shared pool of thousands costs the bench CPU per request)."""

    def __init__(self, *, port: int, host: str, session_key: str | None, csrf: str,
                 connections: int = 6) -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=connections)),
            base_url=f"http://127.0.0.1:{port}",
            headers={"Host": f"{host}:{port}"}, timeout=REQUEST_TIMEOUT,
        )
        if session_key:
            self.http.cookies.set(settings.SESSION_COOKIE_NAME, session_key)
        if csrf:  # the CSRF cookie is not tied to a session: one serves everybody
            self.http.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
        self.csrf = csrf
        self.last_queued = 0  # the place in line of the last answer asked (0: at once)

    async def login(self, email: str) -> None:
        page = await self.http.get("/accounts/login/")
        self.csrf = self.http.cookies.get(settings.CSRF_COOKIE_NAME) or self.csrf
        response = await self.http.post("/accounts/login/", data={
            "username": email, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf})
        if page.status_code != 200 or response.status_code != 302:
            raise RuntimeError(f"Login of {email} failed: {response.status_code}")
        self.csrf = self.http.cookies.get(settings.CSRF_COOKIE_NAME) or self.csrf

    async def post_question(self, text: str) -> dict:
        response = await self.http.post(
            "/send/", data={"text": text},
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})
        if response.status_code != 201:
            raise BenchError(f"POST /send/ {response.status_code}")
        return response.json()["answer"]

    async def hold_stream(self, stream_url: str, opened: Callable[[], None]) -> str:
        """Open an answer's stream and read it to its end: the end event's name."""
        async with self.http.stream("GET", stream_url,
                                    headers={"Accept": "text/event-stream"}) as stream:
            if stream.status_code != 200:
                raise BenchError(f"GET stream {stream.status_code}")
            opened()
            async for line in stream.aiter_lines():
                if line.startswith("event: ") and line[7:] in END_EVENTS:
                    return line[7:]
        raise BenchError("stream ended without an end event")

    async def page(self, path: str = "/") -> float:
        started = time.monotonic()
        try:
            response = await self.http.get(path)
        except httpx.HTTPError as exc:
            raise BenchError(f"GET {path} {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise BenchError(f"GET {path} {response.status_code}")
        return time.monotonic() - started

    async def ask(self, text: str) -> Sample:
        started = time.time()
        try:
            response = await self.http.post(
                "/send/", data={"text": text},
                headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise BenchError(f"POST /send/ {type(exc).__name__}") from exc
        posted = time.time()
        if response.status_code != 201:
            raise BenchError(f"POST /send/ {response.status_code}")
        answer = response.json()["answer"]
        self.last_queued = int(answer.get("queued") or 0)
        stream_url = answer["stream_url"]
        try:
            return await self._read_answer(stream_url, started, posted)
        except httpx.HTTPError as exc:
            raise BenchError(f"GET stream {type(exc).__name__}") from exc

    async def _read_answer(self, stream_url: str, started: float, posted: float) -> Sample:
        first = status_id = delta_id = None
        opened = None
        async with self.http.stream("GET", stream_url,
                                    headers={"Accept": "text/event-stream"}) as stream:
            opened = time.time()
            if stream.status_code != 200:
                raise BenchError(f"GET stream {stream.status_code}")
            current: dict[str, str] = {}
            async for line in stream.aiter_lines():
                if line:
                    if not line.startswith(":"):
                        name, _, value = line.partition(":")
                        current[name] = value.removeprefix(" ")
                    continue
                event, current = current, {}
                kind = event.get("event")
                if kind == "status" and status_id is None:
                    status_id = event.get("id")
                elif kind == "delta" and first is None:
                    first, delta_id = time.time(), event.get("id")
                elif kind in END_EVENTS:
                    if kind != "done":
                        detail = json.loads(event.get("data") or "{}").get("error", "")
                        raise BenchError(f"answer {kind}: {detail[:60]}")
                    break
            else:
                raise BenchError("stream ended without done")
        ended = time.time()
        if first is None:
            raise BenchError("done without any delta")
        parts = {"post": posted - started, "sse_open": opened - posted}
        if status_id and delta_id:
            worker, delta = stream_id_seconds(status_id), stream_id_seconds(delta_id)
            parts |= {"to_worker": worker - started, "worker_ttft": delta - worker,
                      "delivery": first - delta}
        return Sample(ttft=first - started, total=ended - started, parts=parts)


class BenchError(Exception):
    pass


def error_label(exc: BaseException) -> str:
    if isinstance(exc, BenchError):
        return str(exc)
    if isinstance(exc, openai.APIStatusError):
        return f"{type(exc).__name__} {exc.status_code}"
    return type(exc).__name__


async def direct_ask(client: openai.AsyncOpenAI, model: str, system: str, text: str) -> Sample:
    started = time.time()
    first = None
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "system", "content": system},
                               {"role": "user", "content": text}],
        temperature=0.3, max_tokens=1024, stream=True,
        stream_options={"include_usage": True}, store=False,
    )
    async with stream:
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.time()
    if first is None:
        raise BenchError("no content")
    return Sample(ttft=first - started, total=time.time() - started)


async def api_ask(client: openai.AsyncOpenAI, model: str, text: str) -> Sample:
    """One question through the OpenAI-compatible API (issue 26), streamed."""
    started = time.time()
    first = None
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], stream=True)
    async with stream:
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.time()
    if first is None:
        raise BenchError("no content")
    return Sample(ttft=first - started, total=time.time() - started)


async def run_phase(ask: Callable[[int, int], Awaitable[Sample]], level: int, rounds: int,
                    meter: Meter, time_limit: float) -> Phase:
    """`level` conversations at once, each asking `rounds` questions in turn."""
    phase = Phase()

    async def conversation(index: int) -> None:
        for number in range(rounds):
            try:
                phase.samples.append(await ask(index, number))
            except Exception as exc:  # noqa: BLE001 - every failure is a counted error
                phase.errors[error_label(exc)] += 1

    with meter.measure(phase):
        started = time.monotonic()
        tasks = [asyncio.create_task(conversation(i)) for i in range(level)]
        _done, pending = await asyncio.wait(tasks, timeout=time_limit)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            answered = len(phase.samples) + sum(phase.errors.values())
            phase.errors["unfinished at the time limit"] += level * rounds - answered
        phase.wall = time.monotonic() - started
    return phase


async def open_loop_phase(ask: Callable[[int, int], Awaitable[Sample]], rate: float,
                          duration: float, pool: int, meter: Meter, time_limit: float,
                          seed: int = 11) -> Phase:
    """Poisson arrivals at `rate` per second for `duration` seconds, whatever
    the answers' speed (open loop); each arrival takes a conversation that is
    not waiting for an answer. The same seed gives direct and product the
    same arrivals."""
    phase = Phase()
    idle: asyncio.Queue[int] = asyncio.Queue()
    for index in range(pool):
        idle.put_nowait(index)
    arrivals = random.Random(seed)
    tasks = []

    async def one(index: int, number: int) -> None:
        try:
            phase.samples.append(await ask(index, number))
        except Exception as exc:  # noqa: BLE001 - every failure is a counted error
            phase.errors[error_label(exc)] += 1
        finally:
            idle.put_nowait(index)

    with meter.measure(phase):
        started = time.monotonic()
        at, number = started, 0
        while (at := at + arrivals.expovariate(rate)) < started + duration:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            if idle.empty():
                phase.errors["arrival found every conversation busy"] += 1
                continue
            tasks.append(asyncio.create_task(one(idle.get_nowait(), number)))
            number += 1
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=time_limit)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
                phase.errors["unfinished at the time limit"] += len(pending)
        phase.wall = time.monotonic() - started
    return phase


async def wait_drained(tenant: Tenant, limit: float = 120.0) -> None:
    """Until the client has no answer in flight or in line (its flood is over)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    schema = tenant.client.schema_name
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            if not client.zcard(f"inflight:{schema}") and not client.llen(f"waiting:{schema}"):
                return
            await asyncio.sleep(0.5)
    finally:
        client.close()


@dataclass
class Noisy:
    direct: Phase
    alone: Phase
    crowded: Phase
    flood: Phase
    flooders: int


async def noisy_neighbour(stack: Stack, args: argparse.Namespace, meter: Meter,
                          direct: openai.AsyncOpenAI, flood: list[Employee],
                          measured: list[Employee], deadline: float) -> Noisy:
    """Client B's TTFT alone, then while client A keeps `len(flood)`
    conversations busy (closed loop: each asks again once answered)."""
    level, rounds = len(measured), args.noisy_rounds

    def ask_b(i: int, n: int) -> Awaitable[Sample]:
        return measured[i].ask(QUESTION.format(n=f"b-{i}-{n}"))

    direct_phase = await run_phase(
        lambda i, n: direct_ask(direct, stack.model, stack.system, QUESTION.format(n=n)),
        level, rounds, meter, time_left(args.level_time_limit, deadline))
    alone = await run_phase(ask_b, level, rounds, meter,
                            time_left(args.level_time_limit, deadline))
    flooding = Phase()
    stop = asyncio.Event()

    async def keep_busy(i: int) -> None:
        number = 0
        while not stop.is_set():
            try:
                flooding.samples.append(await flood[i].ask(QUESTION.format(n=f"a-{i}-{number}")))
            except Exception as exc:  # noqa: BLE001
                flooding.errors[error_label(exc)] += 1
            number += 1

    started = time.monotonic()
    flooders = [asyncio.create_task(keep_busy(i)) for i in range(len(flood))]
    await asyncio.sleep(args.noisy_ramp)  # A's slots are full and its line is long
    crowded = await run_phase(ask_b, level, rounds, meter,
                              time_left(args.level_time_limit, deadline))
    stop.set()
    for task in flooders:
        task.cancel()
    await asyncio.gather(*flooders, return_exceptions=True)
    flooding.wall = time.monotonic() - started
    await wait_drained(stack.others["a"])
    return Noisy(direct_phase, alone, crowded, flooding, len(flood))


@dataclass
class Share:
    alone: Phase  # the colleague with nobody else asking
    crowded: Phase  # the colleague while one person of the same client floods
    flood: Phase
    waited_for: list[int]  # per crowded question: flood answers that ended before its text
    # (a colleague who waits for the flood sees several end first; one now and
    # then ends by chance during the colleague's own TTFT)
    queued: list[int]  # per crowded question: its place in line when sent (0: at once)


async def share_scenario(args: argparse.Namespace, meter: Meter, flooder: Employee,
                         colleague: Employee) -> Share:
    """One client (limit --share-limit): a colleague's TTFT alone, then while
    one person of the same client keeps --share-flood long answers in flight
    (closed loop: each asks again once answered). Each crowded question also
    counts how many of the flooder's answers ended before its first text
    (a colleague who waits for the flood sees them end first)."""
    rounds = args.share_rounds
    number = 0

    async def colleague_asks(phase: Phase, waited: list[int] | None,
                             queued: list[int] | None) -> None:
        nonlocal number
        with meter.measure(phase):
            began = time.monotonic()
            for _ in range(rounds):
                number += 1
                sent_at = time.time()
                try:
                    sample = await colleague.ask(QUESTION.format(n=f"colleague-{number}"))
                except Exception as exc:  # noqa: BLE001
                    phase.errors[error_label(exc)] += 1
                    continue
                phase.samples.append(sample)
                if waited is not None:
                    first_text = sent_at + sample.ttft
                    waited.append(sum(1 for end in flood_ends if sent_at < end < first_text))
                if queued is not None:
                    queued.append(colleague.last_queued)
                await asyncio.sleep(0.5)
            phase.wall = time.monotonic() - began

    alone = Phase()
    flood_ends: list[float] = []
    await colleague_asks(alone, None, None)
    flooding = Phase()
    stop = asyncio.Event()

    async def keep_busy(i: int) -> None:
        asked = 0
        while not stop.is_set():
            asked += 1
            started = time.time()
            try:
                sample = await flooder.ask(QUESTION.format(n=f"flood-{i}-{asked}"))
            except Exception as exc:  # noqa: BLE001
                flooding.errors[error_label(exc)] += 1
                continue
            flooding.samples.append(sample)
            flood_ends.append(started + sample.total)

    started = time.monotonic()
    flooders = [asyncio.create_task(keep_busy(i)) for i in range(args.share_flood)]
    await asyncio.sleep(2.0)  # the flooder's share is full and the rest wait in line
    crowded, waited, queued = Phase(), [], []
    await colleague_asks(crowded, waited, queued)
    stop.set()
    for task in flooders:
        task.cancel()
    await asyncio.gather(*flooders, return_exceptions=True)
    flooding.wall = time.monotonic() - started
    return Share(alone, crowded, flooding, waited, queued)


@dataclass
class OpenStreams:
    streams: int
    opened: int
    idle: Phase
    busy: Phase
    stream_errors: Counter


async def page_phase(employee: Employee, requests: int, meter: Meter) -> Phase:
    phase = Phase()
    with meter.measure(phase):
        started = time.monotonic()
        for _ in range(requests):
            try:
                seconds = await employee.page("/")
                phase.samples.append(Sample(ttft=seconds, total=seconds))
            except Exception as exc:  # noqa: BLE001
                phase.errors[error_label(exc)] += 1
        phase.wall = time.monotonic() - started
    return phase


async def open_streams(stack: Stack, args: argparse.Namespace, meter: Meter, web_port: int,
                       csrf: str, reader: Employee) -> OpenStreams:
    """Client B's page latency idle, then with client A holding `--open-streams`
    slow answer streams open (answers in flight and in A's line alike)."""
    tenant = stack.others["a"]
    count = args.open_streams
    holder = Employee(port=web_port, host=tenant.host, session_key=tenant.sessions[-1],
                      csrf=csrf, connections=count + 50)
    idle = await page_phase(reader, args.page_requests, meter)
    errors: Counter = Counter()
    answers: list[dict] = []
    gate = asyncio.Semaphore(16)

    async def post(n: int) -> None:
        async with gate:
            try:
                answers.append(await holder.post_question(
                    f"[[tokens: 90]] [[token-delay: 1.0]] slow stream {n}"))
            except Exception as exc:  # noqa: BLE001
                errors[error_label(exc)] += 1

    await asyncio.gather(*(post(n) for n in range(count)))
    opened = 0
    all_open = asyncio.Event()

    def on_open() -> None:
        nonlocal opened
        opened += 1
        if opened == len(answers):
            all_open.set()

    async def hold(answer: dict) -> None:
        try:
            await holder.hold_stream(answer["stream_url"], on_open)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            errors[error_label(exc)] += 1

    holders = [asyncio.create_task(hold(answer)) for answer in answers]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_open.wait(), 120)
    busy = await page_phase(reader, args.page_requests, meter)
    still_open = sum(not task.done() for task in holders)
    if still_open < len(answers):
        errors["streams that ended before the pages were measured"] += len(answers) - still_open

    async def stop(answer: dict) -> None:
        async with gate:
            with contextlib.suppress(httpx.HTTPError):
                await holder.http.post(f"/answers/{answer['id']}/stop/",
                                       headers={"X-CSRFToken": holder.csrf})

    await asyncio.gather(*(stop(answer) for answer in answers))
    await asyncio.wait(holders, timeout=60)
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    await holder.http.aclose()
    await wait_drained(tenant)
    return OpenStreams(count, opened, idle, busy, errors)


# --------------------------------------------------------------------------- setup


@dataclass
class Tenant:
    """A bench client: its host and its employees' sessions (None: logs in over HTTP)."""

    client: Client
    host: str
    emails: list[str] = field(default_factory=list)
    sessions: list[str | None] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # --api: each employee's API token


@dataclass
class Stack:
    client: Client | None = None
    host: str = ""
    emails: list[str] = field(default_factory=list)
    sessions: list[str | None] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    api_model: str = ""
    model: str = ""
    system: str = ""
    others: dict[str, Tenant] = field(default_factory=dict)  # "b": the measured neighbour


def remove_bench_clients() -> None:
    connection.set_schema_to_public()
    for client in Client.objects.filter(slug__startswith=PREFIX):
        services.delete_client(client=client)


def provision(stack: Stack, employees: int, http_logins: int, *, api: bool = False) -> None:
    tenant = provision_client(stack, employees, http_logins, api=api)
    stack.client, stack.host = tenant.client, tenant.host
    stack.emails, stack.sessions = tenant.emails, tenant.sessions
    stack.tokens = tenant.tokens


def provision_client(stack: Stack, employees: int, http_logins: int, *,
                     api: bool = False) -> Tenant:
    slug = f"{PREFIX}{uuid.uuid4().hex[:6]}"
    fields = {"name": "Chat bench", "slug": slug, "admin_email": "admin@chatbench.example",
              "admin_password": PASSWORD}
    try:
        result = services.create_client(**fields)
    except services.ProvisioningError as exc:
        # Not what this benchmark measures: say so loudly and provision the slow way.
        print(f"WARNING: provisioning by cloning the template failed ({exc}); "
              "creating the bench client by running its migrations instead.", flush=True)
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
            result = services.create_client(**fields)
    tenant = Tenant(client=result.client, host=result.domain.domain)
    # One password hash for everyone: hashing is deliberately slow (~0.25 s).
    encoded = make_password(PASSWORD)
    with schema_context(result.client.schema_name):
        config = selectors.get_bot_config()  # created now, not raced by 500 first requests
        stack.model, stack.system = config.model, config.system_instructions
        for i in range(employees):
            email = f"employee{i}@chatbench.example"
            create_member(email=email)
            tenant.emails.append(email)
        User.objects.filter(email__in=tenant.emails).update(password=encoded)
        # The first few log in over HTTP like a browser; the rest get a session
        # made here (what Django's test client force_login does): a real login
        # checks the password hash, and 500 of those take minutes of web CPU.
        users = {u.email: u for u in User.objects.filter(email__in=tenant.emails)}
        for i, email in enumerate(tenant.emails):
            if i < http_logins:
                tenant.sessions.append(None)
                continue
            user = users[email]
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the password one
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            tenant.sessions.append(session.session_key)
        if api:  # one personal access token per employee (the rate limit is per token)
            from api import completions as api_completions
            from api import services as api_services

            stack.api_model = api_completions.model_id(config)
            tenant.tokens = [api_services.create_token(user=users[email], name="bench")[1]
                             for email in tenant.emails]
    connection.set_schema_to_public()
    return tenant


def start_processes(stack: Stack,
                    args: argparse.Namespace) -> tuple[int, str, dict[str, list[int]]]:
    python = sys.executable
    model_port, web_port = free_port(), free_port()
    model = Child("model-server", [
        python, "-m", "devtools.local_model", "--host", "127.0.0.1",
        "--port", str(model_port), "--api-key", MODEL_KEY,
        "--token-delay", str(args.token_delay), "--reply-tokens", str(args.tokens),
    ], {**os.environ, "PYTHONUNBUFFERED": "1"})
    stack.children.append(model)
    base_url = f"http://127.0.0.1:{model_port}/v1"
    model.wait_until(lambda: httpx.get(f"http://127.0.0.1:{model_port}/_health",
                                       timeout=1).status_code == 200)
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "SITE_PORT": str(web_port),
        "PYTHONUNBUFFERED": "1",
        "OPENAI_API_KEY": MODEL_KEY,
        "OPENAI_BASE_URL": base_url,
        "CHAT_RATE_LIMIT_PER_USER": "100000/minute",
        "CHAT_RATE_LIMIT_PER_CLIENT": "1000000/minute",
    }
    if args.in_flight_limit:
        env["CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT"] = str(args.in_flight_limit)
    if args.flush_ms is not None:
        env["CHAT_STREAM_FLUSH_MS"] = str(args.flush_ms)
    # The same commands as scripts/start (devtools/runner.py):
    # --llm-procs worker processes of --llm-concurrency threads each.
    workers = []
    for number in range(args.llm_procs):
        worker = Child(f"worker-llm-{number}", [
            python, "-m", "celery", "-A", "config", "worker", "-Q", "llm", "-P", "threads",
            "-c", str(args.llm_concurrency), "-n", f"chatbench-{uuid.uuid4().hex[:6]}@%h",
            "--loglevel", "INFO",
        ], env)
        stack.children.append(worker)
        workers.append(worker)
    command = web_command(host="127.0.0.1", port=web_port, access_log=False)
    if args.web_procs > 1:
        command += ["--workers", str(args.web_procs)]
    web = Child("web", command, env)
    stack.children.append(web)
    web.wait_until(lambda: httpx.get(f"http://127.0.0.1:{web_port}/healthz", timeout=2,
                                     headers={"Host": settings.BASE_DOMAIN}).status_code < 500)
    for worker in workers:
        worker.wait_until(lambda w=worker: b"ready." in w.log_path.read_bytes())
    data = ROOT / os.environ["TUNEAIBOT_DATA_DIR"]
    pids = {"web": [web.process.pid], "worker": [w.process.pid for w in workers],
            "model": [model.process.pid], "bench": [os.getpid()],
            "postgres": [pid_from(data / "postgres" / "postmaster.pid")],
            "redis": [pid_from(data / "redis" / "redis.pid")]}
    return web_port, base_url, pids


# --------------------------------------------------------------------------- report


PRODUCT_PROCESSES = ("web", "worker", "postgres", "redis")


def cpu_ms_per_answer(phase: Phase, names: tuple[str, ...]) -> float:
    answers = max(len(phase.samples), 1)
    return sum(phase.cpu.get(name, 0.0) for name in names) / 100 * phase.wall / answers * 1000


def target_lines(results: list, extras: dict) -> list[str]:
    """Each target of issue 11 this run measured: met or MISSED, with the figure."""
    lines = []

    def check(ok: bool, text: str) -> None:
        lines.append(f"{'met   ' if ok else 'MISSED'} {text}")

    for level, _rounds, product, direct in results:
        p, d = product.ttft_ms(), direct.ttft_ms()
        added50 = percentile(p, 50) - percentile(d, 50)
        added99 = percentile(p, 99) - percentile(d, 99)
        errors = sum(product.errors.values())
        if level == 1:
            check(added50 <= 15, f"1 conversation: added TTFT p50 <= 15 ms ({fmt(added50)} ms)")
        if level == 100:
            ratio = product.throughput / direct.throughput if direct.throughput else math.nan
            check(ratio >= 0.9, f"100 concurrent: throughput >= 90% of direct "
                  f"({100 * ratio:.0f}%)")
            check(added50 <= 50, f"100 concurrent: added TTFT p50 <= 50 ms ({fmt(added50)} ms)")
            check(added99 <= 250, f"100 concurrent: added TTFT p99 <= 250 ms "
                  f"({fmt(added99)} ms)")
            check(errors == 0, f"100 concurrent: 0 errors ({errors})")
            used = cpu_ms_per_answer(product, PRODUCT_PROCESSES)
            consumer = cpu_ms_per_answer(direct, ("bench",))
            check(used <= 1.5 * consumer,
                  f"100 concurrent: CPU per answer of web+worker+postgres+redis <= 1.5x the "
                  f"direct SDK consumer's ({used:.0f} ms vs {consumer:.0f} ms: "
                  f"{used / consumer if consumer else math.nan:.1f}x)")
        if level >= 300:
            check(errors == 0, f"{level} concurrent: 0 errors ({errors})")
    if "share" in extras:
        share = extras["share"]
        alone = percentile(share.alone.ttft_ms(), 99)
        crowded = percentile(share.crowded.ttft_ms(), 99)
        check(crowded <= 2 * alone and not any(share.queued)
              and not sum(share.crowded.errors.values()),
              f"per-person share (issue 25): a colleague's TTFT p99 <= 2x alone while one "
              f"person floods, never queued behind the flood: {fmt(crowded)} vs "
              f"{fmt(alone)} ms ({crowded / alone if alone else math.nan:.1f}x), "
              f"questions queued: {sum(1 for place in share.queued if place)} of "
              f"{len(share.queued)}")
    for level, api, product, direct in extras.get("api", []):
        a50, p50 = percentile(api.ttft_ms(), 50), percentile(product.ttft_ms(), 50)
        d50 = percentile(direct.ttft_ms(), 50)
        errors = sum(api.errors.values())
        check(a50 <= p50, f"{level} concurrent: API TTFT p50 <= the browser path's "
              f"({fmt(a50)} ms vs {fmt(p50)} ms; direct {fmt(d50)} ms, API p99 "
              f"{fmt(percentile(api.ttft_ms(), 99))} ms)")
        check(errors == 0, f"{level} concurrent API streams: 0 errors ({errors}"
              + (f": {dict(api.errors)}" if errors else "") + ")")
    if "noisy" in extras:
        noisy = extras["noisy"]
        d99 = percentile(noisy.direct.ttft_ms(), 99)
        alone = percentile(noisy.alone.ttft_ms(), 99) - d99
        crowded = percentile(noisy.crowded.ttft_ms(), 99) - d99
        errors = sum(noisy.crowded.errors.values())
        check(crowded <= 2 * max(alone, 1.0) and errors == 0,
              f"noisy neighbour ({noisy.flooders} of A busy): B's added TTFT p99 <= 2x B alone "
              f"({fmt(crowded)} ms vs {fmt(alone)} ms: {crowded / max(alone, 1.0):.1f}x; "
              f"{errors} errors)")
    if "open-streams" in extras:
        held = extras["open-streams"]
        idle99 = percentile(held.idle.ttft_ms(), 99)
        busy99 = percentile(held.busy.ttft_ms(), 99)
        errors = (sum(held.busy.errors.values()) + sum(held.stream_errors.values()))
        check(busy99 <= 2 * idle99 and errors == 0,
              f"{held.streams} open streams (1,000 in the issue): another client's page p99 "
              f"<= 2x idle ({fmt(busy99)} ms vs {fmt(idle99)} ms: "
              f"{busy99 / idle99 if idle99 else math.nan:.1f}x; {errors} errors)")
    return lines


def fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def errors_text(phase: Phase) -> str:
    return str(sum(phase.errors.values()))


def report(results: list[tuple[int, int, Phase, Phase]], args: argparse.Namespace,
           profiling: bool, extras: dict) -> None:
    cpus = os.cpu_count()
    print(f"\nTime to first token, ms. Model server: {args.token_delay * 1000:.0f} ms per "
          f"token, {args.tokens} tokens per answer. llm worker -P threads "
          f"-c {args.llm_concurrency}; {cpus} CPUs.")
    print("product = POST /send/ start -> first SSE delta; direct = AsyncOpenAI request "
          "start -> first content chunk.\nadded = product - direct at the same percentile. "
          "answers/s = answers completed per second of the phase.")
    head = (f"{'conc':>5} {'n':>5} | {'product p50':>11} {'p99':>7} | {'direct p50':>10} "
            f"{'p99':>6} | {'added p50':>9} {'p99':>7} | {'answers/s prod':>14} "
            f"{'direct':>6} | {'errors prod':>11} {'direct':>6}")
    print("\n" + head + "\n" + "-" * len(head))
    for level, _rounds, product, direct in results:
        p, d = product.ttft_ms(), direct.ttft_ms()
        p50, p99 = percentile(p, 50), percentile(p, 99)
        d50, d99 = percentile(d, 50), percentile(d, 99)
        print(f"{level:>5} {len(p):>5} | {fmt(p50):>11} {fmt(p99):>7} | {fmt(d50):>10} "
              f"{fmt(d99):>6} | {fmt(p50 - d50):>9} {fmt(p99 - d99):>7} | "
              f"{product.throughput:>14.1f} {direct.throughput:>6.1f} | "
              f"{errors_text(product):>11} {errors_text(direct):>6}")

    print("\nWhere the product's TTFT goes, ms, p50 / p99 (Redis stream ids time the worker):")
    print("  POST = web answers POST /send/; SSE open = POST answered -> stream headers;")
    print("  to worker = POST start -> worker starts streaming (web work, enqueue, Celery "
          "queue, worker DB setup);")
    print("  worker TTFT = worker starts streaming -> first delta in Redis (SDK call from "
          "the worker);")
    print("  to browser = first delta in Redis -> the browser has it (SSE view, uvicorn).")
    print("  TTFT = to worker + worker TTFT + to browser.")
    names = [("post", "POST"), ("sse_open", "SSE open"), ("to_worker", "to worker"),
             ("worker_ttft", "worker TTFT"), ("delivery", "to browser")]
    head = f"{'conc':>5} | " + " | ".join(f"{label:>15}" for _, label in names)
    print(head + "\n" + "-" * len(head))
    for level, _rounds, product, _direct in results:
        cells = []
        for name, _label in names:
            values = product.part_ms(name)
            cells.append(f"{fmt(percentile(values, 50)):>7} / {fmt(percentile(values, 99)):>5}")
        print(f"{level:>5} | " + " | ".join(f"{cell:>15}" for cell in cells))

    order = ["web", "worker", "postgres", "redis", "model", "bench"]
    print(f"\nCPU time per answer, ms, by process (sum = what one answer costs the machine; "
          f"{cpus} cores).\n  postgres counts every client of that server; other = % of one "
          "core used meanwhile by the rest of the machine (noise).\n  pg sessions = new "
          "PostgreSQL connections, pg xacts = transactions (each autocommit statement is one)."
          )
    counts = ["pg sessions", "pg xacts", "redis cmds"]
    head = (f"{'conc':>5} {'phase':>7} | " + " ".join(f"{name:>8}" for name in order)
            + f" | {'sum':>6} | {'other %':>7} | "
            + " ".join(f"{name:>11}" for name in counts))
    print(head + "\n" + "-" * len(head))
    for level, _rounds, product, direct in results:
        for label, phase in (("product", product), ("direct", direct)):
            answers = max(len(phase.samples), 1)

            def per_answer(name: str, phase: Phase = phase, answers: int = answers) -> float:
                return phase.cpu.get(name, math.nan) / 100 * phase.wall / answers * 1000

            cells = [per_answer(name) for name in order]
            total = sum(c for c in cells if not math.isnan(c))
            work = [phase.counts.get(name, math.nan) / answers for name in counts]
            print(f"{level:>5} {label:>7} | " + " ".join(f"{fmt(c):>8}" for c in cells)
                  + f" | {total:>6.1f} | {phase.cpu.get('other', math.nan):>7.0f} | "
                  + " ".join(f"{fmt(w):>11}" for w in work))

    print("\nRedis commands per product answer, most frequent first:")
    for level, _rounds, product, _direct in results:
        answers = max(len(product.samples), 1)
        commands = sorted(((value / answers, name.removeprefix("redis "))
                           for name, value in product.counts.items()
                           if name.startswith("redis ") and name != "redis cmds" and value),
                          reverse=True)
        print(f"{level:>5}: " + ", ".join(f"{name} {per:.1f}" for per, name in commands[:10]))

    for level, _rounds, product, direct in results:
        for label, phase in (("product", product), ("direct", direct)):
            for reason, count in phase.errors.most_common():
                print(f"  errors at {level}, {label}: {count} x {reason}")

    if "open" in extras:
        product, direct = extras["open"]
        p, d = product.ttft_ms(), direct.ttft_ms()
        print(f"\nOpen loop: Poisson arrivals at {args.rate}/s for {args.duration:.0f}s "
              "(same arrivals for both), TTFT ms:")
        print(f"  product p50 {fmt(percentile(p, 50))} p99 {fmt(percentile(p, 99))} | direct "
              f"p50 {fmt(percentile(d, 50))} p99 {fmt(percentile(d, 99))} | added p50 "
              f"{fmt(percentile(p, 50) - percentile(d, 50))} p99 "
              f"{fmt(percentile(p, 99) - percentile(d, 99))} | answers {len(p)} / {len(d)} | "
              f"errors {errors_text(product)} / {errors_text(direct)}")
        for reason, count in product.errors.most_common():
            print(f"  errors, product: {count} x {reason}")
    if "noisy" in extras:
        noisy = extras["noisy"]
        d99 = percentile(noisy.direct.ttft_ms(), 99)
        print(f"\nNoisy neighbour: client B, {args.noisy_level} conversations x "
              f"{args.noisy_rounds} questions; client A keeps {noisy.flooders} busy "
              "(closed loop). TTFT ms:")
        for label, phase in (("B alone", noisy.alone), ("B during A's flood", noisy.crowded)):
            values = phase.ttft_ms()
            parts = " ".join(f"{name} {fmt(percentile(phase.part_ms(name), 50))}"
                             for name in ("post", "sse_open", "to_worker", "worker_ttft",
                                          "delivery"))
            print(f"  {label:>20}: p50 {fmt(percentile(values, 50))} p99 "
                  f"{fmt(percentile(values, 99))} added p99 {fmt(percentile(values, 99) - d99)}"
                  f" | n {len(values)} errors {errors_text(phase)} | p50 parts: {parts}")
        print(f"  A meanwhile: {len(noisy.flood.samples)} answers "
              f"({noisy.flood.throughput:.1f}/s), errors {errors_text(noisy.flood)}; "
              f"A's TTFT p50 {fmt(percentile(noisy.flood.ttft_ms(), 50))} (its line) ")
        for label, phase in (("B alone", noisy.alone), ("B crowded", noisy.crowded),
                             ("A", noisy.flood)):
            for reason, count in phase.errors.most_common():
                print(f"  errors, {label}: {count} x {reason}")
    if "share" in extras:
        share = extras["share"]
        print(f"\nPer-person share: one client, limit {args.share_limit} answers in flight "
              f"(a person's share: {args.share_person or 'the default'}); one person keeps "
              f"{args.share_flood} long answers in flight, a colleague asks "
              f"{args.share_rounds} questions one after another. Colleague's TTFT ms:")
        for label, phase in (("colleague alone", share.alone),
                             ("colleague, flood on", share.crowded)):
            values = phase.ttft_ms()
            print(f"  {label:>20}: p50 {fmt(percentile(values, 50))} p99 "
                  f"{fmt(percentile(values, 99))} | n {len(values)} errors {errors_text(phase)}")
        print(f"  the colleague's place in line when sent (0: at once): {share.queued}; "
              f"flood answers that ended between a colleague's question and its first "
              f"text: {share.waited_for}")
        print(f"  the flooder meanwhile: {len(share.flood.samples)} answers, TTFT p50 "
              f"{fmt(percentile(share.flood.ttft_ms(), 50))} p99 "
              f"{fmt(percentile(share.flood.ttft_ms(), 99))}, errors "
              f"{errors_text(share.flood)}")
        for label, phase in (("colleague alone", share.alone),
                             ("colleague crowded", share.crowded), ("flooder", share.flood)):
            for reason, count in phase.errors.most_common():
                print(f"  errors, {label}: {count} x {reason}")
    if "open-streams" in extras:
        held = extras["open-streams"]
        print(f"\nOpen streams: client A holds {held.streams} slow answer streams "
              f"({held.opened} opened); client B loads its chat page {args.page_requests} "
              "times, one after another, ms:")
        for label, phase in (("idle", held.idle), ("streams open", held.busy)):
            values = phase.ttft_ms()
            print(f"  {label:>13}: p50 {fmt(percentile(values, 50))} p99 "
                  f"{fmt(percentile(values, 99))} | errors {errors_text(phase)}")
        for reason, count in held.stream_errors.most_common():
            print(f"  errors, A's streams: {count} x {reason}")

    print("\nTargets (issue 11):")
    for line in target_lines(results, extras):
        print("  " + line)
    if profiling:
        print(f"\n(py-spy was sampling web and worker: timings are a little worse than "
              f"without it. Profiles: {LOG_DIR}/profile-*.txt)")


# --------------------------------------------------------------------------- main


def time_left(limit: float, deadline: float) -> float:
    """A phase's time limit, cut so the whole run ends by the deadline."""
    return max(5.0, min(limit, deadline - time.monotonic()))


def rounds_for(level: int, samples: int) -> int:
    return max(2, min(30, math.ceil(samples / level)))


async def warm_up(employees: list[Employee], direct: openai.AsyncOpenAI, stack: Stack) -> None:
    """Open pools, compile templates, create the SDK clients: none of it counts."""
    count = min(len(employees), 20)
    results = await asyncio.gather(
        *(e.ask(QUESTION.format(n="warm-up")) for e in employees[:count]),
        *(direct_ask(direct, stack.model, stack.system, "warm-up") for _ in range(count)),
        return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:  # said, not fatal: the phases count their own errors
        print(f"  warm-up: {len(failed)} of {len(results)} failed ({error_label(failed[0])})",
              flush=True)


@contextlib.contextmanager
def py_spy(enabled: bool, pids: dict[str, list[int]], level: int) -> Iterator[None]:
    binary = shutil.which("py-spy") if enabled else None
    recorders = []
    if binary:
        for name in ("web", "worker"):
            out = LOG_DIR / f"profile-{level}-{name}.raw"
            recorders.append((out, subprocess.Popen(
                [binary, "record", "--pid", str(pids[name][0]), "--format", "raw", "--output",
                 str(out), "--rate", "200", "--nonblocking", "--subprocesses", "--gil"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    try:
        yield
    finally:
        for out, recorder in recorders:
            recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(timeout=20)
            except subprocess.TimeoutExpired:
                recorder.kill()
            summarize_profile(out)


def summarize_profile(raw: Path) -> None:
    """Collapsed stacks -> the functions (ours and libraries') holding most samples."""
    if not raw.exists():
        return
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        number = int(count)
        total += number
        own[frames[-1]] += number
        for frame in set(frames[1:]):
            inclusive[frame] += number
    lines = [f"{total} samples of threads on CPU (py-spy without --idle) in {raw.name}", "",
             "self:"]
    share = 100 / max(total, 1)
    lines += [f"{n * share:6.1f}%  {f}" for f, n in own.most_common(40)]
    lines += ["", "inclusive:"]
    lines += [f"{n * share:6.1f}%  {f}" for f, n in inclusive.most_common(60)]
    raw.with_suffix(".txt").write_text("\n".join(lines) + "\n")


async def measure(stack: Stack, args: argparse.Namespace, web_port: int, base_url: str,
                  pids: dict[str, list[int]], levels: list[int],
                  deadline: float) -> tuple[list, dict]:
    bootstrap = Employee(port=web_port, host=stack.host, session_key=None, csrf="")
    await bootstrap.http.get("/accounts/login/")
    csrf = bootstrap.http.cookies[settings.CSRF_COOKIE_NAME]
    employees = [Employee(port=web_port, host=stack.host, session_key=key,
                          csrf=csrf if key else "") for key in stack.sessions]
    for employee, email, key in zip(employees, stack.emails, stack.sessions, strict=True):
        if key is None:
            await employee.login(email)
    direct = openai.AsyncOpenAI(api_key=MODEL_KEY, base_url=base_url, max_retries=0,
                                timeout=REQUEST_TIMEOUT)
    # --api: each employee's SDK client on the client's site (loopback, Host header).
    apis = [openai.AsyncOpenAI(api_key=token, base_url=f"http://127.0.0.1:{web_port}/v1",
                               default_headers={"Host": f"{stack.host}:{web_port}"},
                               max_retries=0, timeout=REQUEST_TIMEOUT)
            for token in stack.tokens]
    meter = Meter(pids)
    results = []
    extras: dict = {}
    others: list[Employee] = []
    try:
        await warm_up(employees, direct, stack)
        for level in levels:
            rounds = rounds_for(level, args.samples)
            print(f"  {level} concurrent x {rounds} rounds ...", flush=True)
            direct_phase = await run_phase(
                lambda i, n: direct_ask(direct, stack.model, stack.system,
                                        QUESTION.format(n=f"{i}-{n}")),
                level, rounds, meter, time_left(args.level_time_limit, deadline))
            await asyncio.sleep(0.5)
            with py_spy(args.profile, pids, level):
                product_phase = await run_phase(
                    lambda i, n: employees[i].ask(QUESTION.format(n=f"{i}-{n}")),
                    level, rounds, meter, time_left(args.level_time_limit, deadline))
            results.append((level, rounds, product_phase, direct_phase))
            await asyncio.sleep(0.5)
            if apis:
                api_phase = await run_phase(
                    lambda i, n: api_ask(apis[i], stack.api_model,
                                         QUESTION.format(n=f"api-{i}-{n}")),
                    level, rounds, meter, time_left(args.level_time_limit, deadline))
                extras.setdefault("api", []).append((level, api_phase, product_phase,
                                                     direct_phase))
                await asyncio.sleep(0.5)
        if args.rate:
            pool = len(employees)
            print(f"  open loop: {args.rate}/s for {args.duration:.0f}s ...", flush=True)
            direct_phase = await open_loop_phase(
                lambda i, n: direct_ask(direct, stack.model, stack.system,
                                        QUESTION.format(n=f"{i}-{n}")),
                args.rate, args.duration, pool, meter, time_left(args.level_time_limit,
                                                                 deadline))
            product_phase = await open_loop_phase(
                lambda i, n: employees[i].ask(QUESTION.format(n=f"open-{i}-{n}")),
                args.rate, args.duration, pool, meter, time_left(args.level_time_limit,
                                                                 deadline))
            extras["open"] = (product_phase, direct_phase)
        if "noisy" in args.scenarios:
            print(f"  noisy neighbour: A keeps {args.noisy_flood} busy, B asks "
                  f"{args.noisy_level} at once ...", flush=True)
            tenant_a, tenant_b = stack.others["a"], stack.others["b"]
            flood = [Employee(port=web_port, host=tenant_a.host, session_key=key, csrf=csrf)
                     for key in tenant_a.sessions[:args.noisy_flood]]
            measured = [Employee(port=web_port, host=tenant_b.host, session_key=key,
                                 csrf=csrf) for key in tenant_b.sessions[:args.noisy_level]]
            others.extend(flood + measured)
            extras["noisy"] = await noisy_neighbour(stack, args, meter, direct, flood,
                                                    measured, deadline)
        if "share" in args.scenarios:
            tenant_c = stack.others["c"]
            print(f"  per-person share: one person keeps {args.share_flood} long answers "
                  f"in flight, a colleague asks (client limit {args.share_limit}) ...",
                  flush=True)
            flooder, colleague = (Employee(port=web_port, host=tenant_c.host, session_key=key,
                                           csrf=csrf, connections=args.share_flood + 2)
                                  for key in tenant_c.sessions[:2])
            others.extend([flooder, colleague])
            extras["share"] = await share_scenario(args, meter, flooder, colleague)
        if "open-streams" in args.scenarios:
            print(f"  open streams: {args.open_streams} slow streams of A, pages of B ...",
                  flush=True)
            tenant_b = stack.others["b"]
            reader = Employee(port=web_port, host=tenant_b.host,
                              session_key=tenant_b.sessions[-1], csrf=csrf)
            others.append(reader)
            extras["open-streams"] = await open_streams(stack, args, meter, web_port, csrf,
                                                        reader)
    finally:
        meter.close()
        await direct.close()
        for client in apis:
            await client.close()
        for employee in employees + others:
            await employee.http.aclose()
        await bootstrap.http.aclose()
    return results, extras


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,100",
                        help="concurrent conversations (closed loop), comma-separated; "
                        "'' for none")
    parser.add_argument("--token-delay", type=float, default=0.025,
                        help="seconds per token (a real answer: 25 ms)")
    parser.add_argument("--tokens", type=int, default=200,
                        help="tokens per answer (a real answer: 200, ~5 s)")
    parser.add_argument("--samples", type=int, default=10,
                        help="answers per level at least (2 to 30 rounds per conversation)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: Poisson arrivals per second (0: off)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="open loop: seconds of arrivals")
    parser.add_argument("--scenarios", default="",
                        help="also run: noisy (client A floods, client B measured), "
                        "open-streams (slow streams of A open, pages of B timed), "
                        "share (one person of a client floods, a colleague measured); "
                        "comma-separated")
    parser.add_argument("--noisy-flood", type=int, default=300,
                        help="noisy: conversations client A keeps busy")
    parser.add_argument("--noisy-level", type=int, default=10,
                        help="noisy: client B's concurrent conversations")
    parser.add_argument("--noisy-rounds", type=int, default=3,
                        help="noisy: questions per B conversation, alone and crowded")
    parser.add_argument("--noisy-ramp", type=float, default=8.0,
                        help="noisy: seconds of A's flood before B is measured")
    parser.add_argument("--share-limit", type=int, default=4,
                        help="share: the client's answers in flight")
    parser.add_argument("--share-person", type=int, default=0,
                        help="share: one person's share (0: the default, half the client's)")
    parser.add_argument("--share-flood", type=int, default=8,
                        help="share: long answers the flooding person keeps in flight")
    parser.add_argument("--share-rounds", type=int, default=10,
                        help="share: the colleague's questions, alone and during the flood")
    parser.add_argument("--open-streams", type=int, default=200,
                        help="open-streams: slow answer streams client A holds open")
    parser.add_argument("--page-requests", type=int, default=40,
                        help="open-streams: page loads of client B, idle and busy")
    parser.add_argument("--web-procs", type=int, default=1,
                        help="uvicorn --workers (web processes)")
    parser.add_argument("--llm-procs", type=int, default=1,
                        help="celery llm worker processes (each --llm-concurrency threads)")
    parser.add_argument("--in-flight-limit", type=int, default=0,
                        help="CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT for the run (0: the default)")
    parser.add_argument("--flush-ms", type=int, default=None,
                        help="CHAT_STREAM_FLUSH_MS for the run (default: the setting's)")
    parser.add_argument("--llm-concurrency", type=int, default=200,
                        help="threads of the llm worker (production: 200)")
    parser.add_argument("--http-logins", type=int, default=3,
                        help="employees who log in over HTTP; the others get a session "
                        "directly (password checks are slow by design)")
    parser.add_argument("--level-time-limit", type=float, default=90.0,
                        help="seconds before a level's unfinished answers count as errors")
    parser.add_argument("--budget", type=float, default=290.0,
                        help="seconds for the whole run; phases are cut short to keep it")
    parser.add_argument("--api", action="store_true",
                        help="also ask through the OpenAI-compatible API (/v1, issue 26)")
    parser.add_argument("--profile", action="store_true",
                        help="sample web and worker with py-spy during each product phase")
    args = parser.parse_args()
    levels = [int(part) for part in args.levels.split(",") if part.strip()]
    if levels and min(levels) < 1:
        parser.error("--levels takes positive whole numbers, e.g. 1,100,300")
    args.scenarios = {part.strip() for part in args.scenarios.split(",") if part.strip()}
    if args.scenarios - {"noisy", "open-streams", "share"}:
        parser.error("--scenarios takes noisy, open-streams and/or share")

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    stack = Stack()
    results, extras = [], {}
    try:
        print("Migrating and creating the bench client ...", flush=True)
        services.migrate_all()
        remove_bench_clients()  # left over by a run that was killed
        provision(stack, max([*levels, 20 if args.rate else 1,
                              math.ceil(args.rate * 15)]), args.http_logins, api=args.api)
        if args.scenarios:
            stack.others["a"] = provision_client(
                stack, max(args.noisy_flood if "noisy" in args.scenarios else 1, 1), 0)
            stack.others["b"] = provision_client(stack, args.noisy_level + 1, 0)
        if "share" in args.scenarios:
            stack.others["c"] = tenant = provision_client(stack, 2, 0)
            limits = {"answers_in_flight_limit": args.share_limit}
            if args.share_person:
                limits["answers_in_flight_per_person"] = args.share_person
            Client.objects.filter(pk=tenant.client.pk).update(**limits)
        print(f"Starting model server, web and llm worker (logs: {LOG_DIR}) ...", flush=True)
        web_port, base_url, pids = start_processes(stack, args)
        print(f"Ready after {time.monotonic() - began:.0f}s; measuring:", flush=True)
        # Leave time to stop the processes and delete the client.
        deadline = began + args.budget - 30
        results, extras = asyncio.run(measure(stack, args, web_port, base_url, pids, levels,
                                              deadline))
    finally:
        for child in reversed(stack.children):
            child.stop()
        remove_bench_clients()
    if results or extras:
        report(results, args, args.profile and bool(shutil.which("py-spy")), extras)
    print(f"\nTotal run time {time.monotonic() - began:.0f}s.")


if __name__ == "__main__":
    main()
