"""Helpers for the answer-path fault tests (tests/faults/test_faultschat_*.py):
workers started with extra settings, the outcome of every answer counted
(lost, duplicated, stuck), and how long the employee waited for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from tests.conftest import OUTPUT, WorkerProcess
from tests.support.site import Event, Site, text_of

TIMINGS = OUTPUT / "faultschat-timings.txt"


@pytest.fixture
def workers(worker_env) -> Iterator:
    """Start workers with extra settings; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        OUTPUT.mkdir(exist_ok=True)
        worker = WorkerProcess(env={**worker_env, **env},
                               log_path=OUTPUT / "celery-worker-faultschat.log")
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@dataclass
class Watched:
    """An answer as the employee saw it, from sending to its end event."""

    sent: dict
    events: list[Event]
    seconds: float  # from pressing Send to the end event (this loaded machine)

    @property
    def end(self) -> Event:
        return self.events[-1]

    @property
    def text(self) -> str:
        return text_of(self.events)

    def kinds(self) -> list[str]:
        return [event.event for event in self.events]

    def notices(self) -> list[str]:
        return [e.data["notice"] for e in self.events if e.event == "status" and "notice" in e.data]


def ask_and_watch(site: Site, text: str, *, conversation_id: int | None = None,
                  timeout: float = 120) -> Watched:
    started = time.monotonic()
    sent = site.ask(text, conversation_id)
    events = site.events(sent["answer"]["stream_url"], timeout=timeout)
    return Watched(sent, events, time.monotonic() - started)


def stored(result, answer_id: int) -> Message:
    with schema_context(result.client.schema_name):
        return Message.objects.get(pk=answer_id)


@dataclass
class Tally:
    tried: int = 0
    lost: int = 0  # the employee saw an answer the database does not have
    duplicated: int = 0  # a question or answer text stored or shown twice
    stuck: int = 0  # still pending/streaming at the end


def tally(result, watched: list[Watched]) -> Tally:
    """Compare what the employee saw with what is stored."""
    counts = Tally(tried=len(watched))
    with schema_context(result.client.schema_name):
        for item in watched:
            answer = Message.objects.get(pk=item.sent["answer"]["id"])
            if not answer.is_finished:
                counts.stuck += 1
            if item.end.event == "done" and answer.status != Message.Status.DONE:
                counts.lost += 1
            if item.end.event in ("done", "failed") and answer.content != item.text:
                if item.text and answer.content and item.text.count(answer.content) > 1:
                    counts.duplicated += 1
                elif item.end.event == "done":
                    counts.lost += 1
            questions = Message.objects.filter(
                conversation_id=item.sent["conversation_id"], role="user",
                content=item.sent["question"]["text"]).count()
            counts.duplicated += max(0, questions - 1)
    return counts


def record(fault: str, seconds: float, outcome: str, bound: str) -> None:
    """One line of the timing table the final report quotes."""
    OUTPUT.mkdir(exist_ok=True)
    with TIMINGS.open("a") as out:
        out.write(f"{fault}\t{seconds:.1f}\t{outcome}\t{bound}\n")
    print(f"[faultschat] {fault}: {outcome} after {seconds:.1f} s (bound: {bound})")
