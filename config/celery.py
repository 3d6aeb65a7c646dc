"""The tenant-aware Celery app.

A task enqueued inside a client's request carries that client's schema name
(tenant-schemas-celery adds it to the message headers) and runs in that schema.
"""

from __future__ import annotations

import os

from kombu import Queue
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("tuneaibot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("llm"), Queue("ingest"))
app.conf.task_routes = {
    "chat.tasks.generate_answer": {"queue": "llm"},
    "chat.tasks.ingest_*": {"queue": "ingest"},
}
app.autodiscover_tasks()
