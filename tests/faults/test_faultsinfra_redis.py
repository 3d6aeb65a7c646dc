"""Workers ride out a Redis outage: answers in flight when Redis goes away, and
messages sent after it is back, all end answered with no restart by a person."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from devtools.processes import stop_group
from tests.conftest import OUTPUT, WebServer, WorkerProcess
from tests.faults.faultsinfra_support import OwnRedis
from tests.support.accounts import signed_in_site
from tests.support.beat import start_beat
from tests.support.site import Site
from tests.support.waiting import wait_until

# Waits on up to three outcomes in a row (60 + 120 + 180 s at most).
pytestmark = [pytest.mark.worker, pytest.mark.timeout(600)]


class LlmWorker(WorkerProcess):
    """A worker started as the runner starts the llm worker (threads pool)."""

    def _spawn(self, log) -> None:
        import subprocess
        import sys
        import uuid

        from tests.conftest import ROOT

        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker",
             "-Q", "default,llm,ingest", "-P", "threads", "-c", "8",
             "-n", f"outage-{uuid.uuid4().hex[:6]}@%h", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_worker_rides_out_a_redis_outage_with_answers_in_flight(
        make_client, worker_env, model, tmp_path):
    own_redis = OwnRedis(tmp_path / "redis").start()
    env = {**worker_env, "REDIS_URL": own_redis.url, "CELERY_BROKER_URL": "",
           "CELERY_VISIBILITY_TIMEOUT": "5", "CELERY_RESTORE_INTERVAL": "1",
           "CHAT_LEASE_SECONDS": "3"}
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / "celery-worker-redis-outage.log"
    log_path.unlink(missing_ok=True)
    worker = LlmWorker(env=env, log_path=log_path)
    server = WebServer(env=env, log_path=OUTPUT / "web-redis-outage.log")
    result = make_client("redisout")
    try:
        worker.start()
        server.start()
        site = signed_in_site(server, result)
        model.configure(token_delay=0.2, reply_tokens=40)
        in_flight = [site.ask(f"Question {n} before the outage") for n in range(3)]
        for sent in in_flight:
            site.events(sent["answer"]["stream_url"], limit=2)

        own_redis.stop()
        time.sleep(3)
        assert worker.process.poll() is None, "the worker is still running with Redis gone"
        own_redis.start()
        time.sleep(2)
        assert worker.process.poll() is None, "the worker is still running after Redis is back"

        model.configure(token_delay=0.01, reply_tokens=5)
        after = wait_until(lambda: _try_ask(site, "Question after the outage"),
                            timeout=60, what="a message accepted after Redis is back")
        schema = result.client.schema_name

        def settled(pk: int) -> str | None:
            with schema_context(schema):
                status = Message.objects.get(pk=pk).status
            return status if status in {"done", "failed"} else None

        final_after = wait_until(lambda: settled(after["answer"]["id"]), timeout=120,
                                  what="the answer to the message sent after the outage")
        final_in_flight = [
            wait_until(lambda pk=sent["answer"]["id"]: settled(pk), timeout=180,
                        what="the answers that were in flight ending")
            for sent in in_flight]
        assert worker.process.poll() is None, "no restart by a person was needed"
    finally:
        server.stop()
        worker.stop()
        own_redis.stop()

    log = log_path.read_text(errors="replace")
    assert "Unrecoverable error" not in log and "'hostname'" not in log, log[-4000:]
    assert "Error on restarting" not in log, log[-4000:]
    assert final_after == "done"
    # Answers in flight end one way or the other (done, or failed with the Retry
    # button), never stuck: whether they are redone is the answer path's business.
    assert set(final_in_flight) <= {"done", "failed"}


def _try_ask(site: Site, text: str) -> dict | None:
    response = site.send(text)
    return response.json() if response.status_code == 201 else None


def test_beat_rides_out_a_redis_outage(make_client, worker_env, tmp_path):
    make_client("beatredis")  # periodic tasks are sent once per client
    own_redis = OwnRedis(tmp_path / "redis").start()
    env = {**worker_env, "REDIS_URL": own_redis.url, "CELERY_BROKER_URL": "",
           "BEAT_SWEEP_SECONDS": "1"}
    log_path = tmp_path / "beat.log"
    beat = start_beat(env, log_path, schedule=tmp_path / "schedule")

    def sent_after(position: int) -> int | None:
        content = log_path.read_text(errors="replace")
        assert beat.poll() is None, f"beat exited:\n{content[-3000:]}"
        found = content.find("Sending due task fail-abandoned-answers", position)
        return found + 1 if found >= 0 else None

    try:
        position = wait_until(lambda: sent_after(0), timeout=60, what="beat sending a task")
        own_redis.stop()
        time.sleep(4)  # several due runs meet the outage
        assert beat.poll() is None, "beat is still running with Redis gone"
        own_redis.start()
        position = len(log_path.read_text(errors="replace"))
        wait_until(lambda: sent_after(position), timeout=60, what="beat sending again")
        queued = own_redis_client(own_redis).llen("default")
    finally:
        stop_group(beat, timeout=15)
        own_redis.stop()
    assert queued > 0, "tasks sent after the outage reached the broker"


def own_redis_client(own_redis: OwnRedis):
    import redis

    return redis.Redis.from_url(own_redis.url)
