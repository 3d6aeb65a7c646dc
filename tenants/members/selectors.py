from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from tenants.members.models import User


def list_members() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "email")


def tenant_admins() -> QuerySet[User]:
    return User.objects.filter(role=User.Role.ADMIN).order_by("email")


def tenant_admin(*, pk) -> User | None:
    """A tenant admin of this schema by id (None for anything else, bad ids included)."""
    if not isinstance(pk, str) or not pk.isascii() or not pk.isdigit() or len(pk) > 18:
        return None
    return tenant_admins().filter(pk=int(pk)).first()


def language_for(*, user: User | None, tenant=None) -> str:
    """The language to speak to `user` outside a request (e-mails, worker
    messages): theirs, else the workspace's default, else the site default."""
    known = {code for code, _name in settings.LANGUAGES}
    for choice in (getattr(user, "language", ""), getattr(tenant, "default_language", "")):
        if choice in known:
            return choice
    return settings.LANGUAGE_CODE


def _recent_failures(field: str, limit: int) -> dict[str, int]:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = (AccessAttempt.objects.filter(attempt_time__gte=since, **{f"{field}__isnull": False})
            .values(field).annotate(failures=Sum("failures_since_start"))
            .filter(failures__gte=limit).order_by(field))
    return {row[field]: row["failures"] for row in rows}


def locked_out_emails() -> dict[str, int]:
    """Accounts of this site whose sign-in is paused now: e-mail -> recent failures.

    Counted in the current schema only (axes' records live per client)."""
    return _recent_failures("username", settings.AXES_FAILURE_LIMIT)


def locked_out_addresses() -> dict[str, int]:
    """Network addresses paused from signing in to this site now: address -> failures."""
    return _recent_failures("ip_address", settings.LOGIN_FAILURES_PER_ADDRESS)


# --- the directory's names, for redaction -------------------------------------------

_DIRECTORY_VERSION_KEY = "members:directory-version"
_directory_cache: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {}


def directory_names() -> tuple[tuple[str, str, str], ...]:
    """(key, given name, family name) of every member of the current client,
    former members included (their names are still personal data).

    Read once per process and directory version: the version lives in the
    cache (per client) and changes whenever a member's name does
    (``tenants.members.signals``), so every worker sees a change at once and
    a message costs one cache read, not a query.
    """
    from django.core.cache import cache

    from tenants.db import current_schema

    version = cache.get(_DIRECTORY_VERSION_KEY)
    if version is None:
        version = bump_directory_version()
    schema = current_schema()
    hit = _directory_cache.get(schema)
    if hit is not None and hit[0] == version:
        return hit[1]
    names = tuple(
        (str(pk), first, last)
        for pk, first, last in User.objects.order_by("pk").values_list(
            "pk", "first_name", "last_name")
        if (first or "").strip() or (last or "").strip()
    )
    _directory_cache[schema] = (version, names)
    return names


def bump_directory_version() -> str:
    """Mark the current client's directory as changed (a new random version)."""
    import secrets

    from django.core.cache import cache

    version = secrets.token_hex(8)
    cache.set(_DIRECTORY_VERSION_KEY, version, timeout=None)
    return version
