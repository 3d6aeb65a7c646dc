"""The retention purge runs from a real `celery beat` (tenant-schemas-celery's
tenant-aware scheduler) through a real worker, in every client's schema."""

import time

import pytest
from django_tenants.utils import schema_context

from chat.models import Conversation
from compliance import selectors, services
from compliance.models import PurgeRecord
from devtools.processes import stop_group
from tests.conftest import OUTPUT
from tests.support.beat import start_beat
from tests.support.factories import ConversationFactory, client_admin

pytestmark = pytest.mark.worker


def test_beat_purges_every_client_on_schedule(make_client, celery_worker, worker_env):
    short, forever = make_client("beat"), make_client("beat")
    for result in (short, forever):
        with schema_context(result.client.schema_name):
            ConversationFactory(user=client_admin(), title="old", age_days=3)
    with schema_context(short.client.schema_name):
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      conversation_retention_days=2)
    beat = start_beat({**worker_env, "COMPLIANCE_PURGE_EVERY_MINUTES": "0.05"},
                      OUTPUT / "celery-beat.log")
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            done = []
            for result in (short, forever):
                with schema_context(result.client.schema_name):
                    done.append(PurgeRecord.objects.exists())
            if all(done):
                break
            time.sleep(0.5)
    finally:
        stop_group(beat, timeout=15)

    with schema_context(short.client.schema_name):
        assert PurgeRecord.objects.exists(), "beat did not purge this client"
        assert not Conversation.objects.exists()
        assert PurgeRecord.objects.order_by("ran_at").first().deleted["conversations"] == 1
    with schema_context(forever.client.schema_name):
        assert PurgeRecord.objects.exists(), "beat did not reach the second client"
        assert Conversation.objects.count() == 1  # kept forever
