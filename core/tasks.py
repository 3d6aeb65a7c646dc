"""Sending Celery tasks from services: once the data they read is committed.

Saleor's rule: a task sent inside a transaction may run before the commit
(and find nothing) or after a rollback (and act on nothing), so every task
goes through `enqueue_on_commit`. A task named by its string name
("tenants.tasks.send_invitation_email") needs no import of its module, so a
services module never imports the tasks module that calls it back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task, current_app
from django.db import transaction


def enqueue_on_commit(task: Task | str, /, *, on_error: Callable[[Exception], None] | None = None,
                      **kwargs: Any) -> None:
    """Send `task` with `kwargs` once the current transaction commits (at once
    outside one). The tenant's schema goes with it (tenant-schemas-celery).
    `on_error(exc)`: the broker refused it (the callback may raise)."""

    def send() -> None:
        try:
            if isinstance(task, str):
                current_app.send_task(task, kwargs=kwargs)
            else:
                task.apply_async(kwargs=kwargs)
        except Exception as exc:  # kombu/redis raise many types for one outage
            if on_error is None:
                raise
            on_error(exc)

    transaction.on_commit(send)
