"""The tenant-aware beat scheduler, made to ride out a database outage.

tenant-schemas-celery lists the clients when a periodic task is due; with
PostgreSQL unreachable that query raises and celery beat exits, so retention,
abandoned-answer and stalled-file sweeps would silently stop. Here the due run
is skipped with a warning and the next one goes ahead once the database is back.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, close_old_connections, connection
from tenant_schemas_celery.scheduler import TenantAwareScheduler

logger = logging.getLogger(__name__)


class ResilientTenantScheduler(TenantAwareScheduler):
    def apply_entry(self, entry, producer=None):
        try:
            return super().apply_entry(entry, producer=producer)
        except DatabaseError as exc:
            logger.warning("Skipping %s this time: the database is unreachable (%s). "
                           "It runs again at its next time.", entry.name, exc)
            connection.close_if_unusable_or_obsolete()
            close_old_connections()
            return None
