"""The llm worker rides out a PostgreSQL outage: the process stays up, tasks that
met the outage are retried, and messages sent meanwhile are answered after."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from tests.conftest import OUTPUT
from tests.conftest import test_database_url as database_url_of_tests
from tests.faults.test_faultsinfra_redis import LlmWorker, wait_until
from tests.support.accounts import signed_in_site
from tests.support.proxy import OutageProxy

# Waits on up to three outcomes in a row (60 + 120 + 180 s at most).
pytestmark = [pytest.mark.worker, pytest.mark.timeout(600)]


def test_worker_rides_out_a_database_outage(make_client, web_server, worker_env, model):
    proxy = OutageProxy.for_postgres_url(database_url_of_tests()).up()
    env = {**worker_env, "DB_POOL_TIMEOUT": "3", "CHAT_LEASE_SECONDS": "3",
           "DATABASE_URL": proxy.proxied_postgres_url(database_url_of_tests())}
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / "celery-worker-db-outage.log"
    log_path.unlink(missing_ok=True)
    worker = LlmWorker(env=env, log_path=log_path)
    result = make_client("dbout")
    schema = result.client.schema_name

    def settled(pk: int) -> str | None:
        with schema_context(schema):
            status = Message.objects.get(pk=pk).status
        return status if status in {"done", "failed"} else None

    try:
        worker.start()
        # The web server keeps its own database connection: only the worker is cut off.
        site = signed_in_site(web_server, result)
        model.configure(token_delay=0.2, reply_tokens=30)
        in_flight = site.ask("Asked before the outage")
        site.events(in_flight["answer"]["stream_url"], limit=2)

        proxy.down()
        model.configure(token_delay=0.01, reply_tokens=5)
        during = site.ask("Asked while the worker cannot reach the database")
        time.sleep(6)
        assert worker.process.poll() is None, "the worker is still running without a database"
        proxy.up()

        final_during = wait_until(lambda: settled(during["answer"]["id"]), timeout=120,
                                  what="the answer to the message sent during the outage")
        final_in_flight = wait_until(lambda: settled(in_flight["answer"]["id"]), timeout=180,
                                     what="the answer in flight ending")
        after = site.ask("Asked after the outage")
        final_after = wait_until(lambda: settled(after["answer"]["id"]), timeout=60,
                                 what="the answer to the message sent after the outage")
        assert worker.process.poll() is None, "no restart by a person was needed"
    finally:
        worker.stop()
        proxy.down()

    assert final_during == "done", "a task that met the outage was retried"
    assert final_after == "done"
    assert final_in_flight in {"done", "failed"}, "the answer in flight is not left stuck"
