"""The tenant-aware Celery app.

A task enqueued inside a client's request carries that client's schema name
(tenant-schemas-celery adds it to the message headers) and runs in that schema.
"""

from __future__ import annotations

import logging
import os

from kombu import Queue
from tenant_schemas_celery.app import CeleryApp, get_schema_name_from_task
from tenant_schemas_celery.task import TenantTask

import config.broker  # noqa: F401 - registers the broker transport's URL alias

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


class TenantBoundTask(TenantTask):
    """Refuses to run anywhere but the schema the task was enqueued in.

    tenant-schemas-celery logs and swallows a failed schema switch (say the
    client was deleted meanwhile) and would run the task in the public schema;
    for us that would mean touching the wrong people's data, so we drop it.
    """

    abstract = True

    def __call__(self, *args, **kwargs):
        from django.db import connection

        wanted = get_schema_name_from_task(self, kwargs) or "public"
        if connection.schema_name != wanted:
            from django.db import DatabaseError
            from django_tenants.utils import get_tenant_model

            # The switch failed: either the client is gone (drop the task) or
            # the database did not answer (try again shortly; nothing is lost).
            try:
                client_exists = get_tenant_model().objects.filter(schema_name=wanted).exists()
            except DatabaseError:
                client_exists = True
            if client_exists:
                raise self.retry(countdown=2, max_retries=30)
            logger.warning(
                "Dropping task %s: its client schema %r no longer exists", self.name, wanted
            )
            return None
        return super().__call__(*args, **kwargs)


app = CeleryApp("tuneaibot", task_cls=TenantBoundTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("llm"), Queue("ingest"))
app.conf.task_routes = {
    "chat.tasks.generate_answer": {"queue": "llm"},
    "knowledge.ingest_*": {"queue": "ingest"},
}
app.autodiscover_tasks()
