"""The database connection as django-tenants makes it, typed.

django-tenants' DatabaseWrapper carries the current schema and client
(`schema_name`, `tenant`, `set_schema_to_public`); Django's stubs describe the
plain wrapper, which has none of them. Code that reads or switches the current
schema goes through these helpers, so mypy checks their callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from django.db import connection

if TYPE_CHECKING:
    from tenants.models import Client


class TenantConnection(Protocol):
    schema_name: str
    tenant: Client

    def set_schema_to_public(self) -> None: ...


def tenant_connection() -> TenantConnection:
    """The default connection (a django-tenants DatabaseWrapper)."""
    return cast("TenantConnection", connection)


def current_schema() -> str:
    """The schema the default connection's queries run in now."""
    return tenant_connection().schema_name
