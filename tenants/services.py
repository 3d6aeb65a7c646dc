"""Provisioning: the platform, the template schema, and each client's life cycle."""

from __future__ import annotations

import logging
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists
from phonenumbers import SUPPORTED_REGIONS

from tenants.db import tenant_connection
from tenants.members.models import User
from tenants.models import Client, Domain

logger = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# Names that would collide with the platform's own schemas or hosts.
RESERVED_SLUGS = frozenset(
    {"public", "www", "admin", "api", "static", "media", "platform", "tenant-template",
     "information-schema", "pg-catalog", "mail", "app", "status"}
)


class ProvisioningError(Exception):
    """A client could not be created; the message says why and what to do."""


@dataclass(frozen=True)
class ProvisionedClient:
    client: Client
    domain: Domain
    admin: User
    admin_password: str


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def client_host(client: Client) -> str:
    domain = client.get_primary_domain()
    return domain.domain if domain else f"{client.slug}.{settings.BASE_DOMAIN}"


def site_url(host: str) -> str:
    port = settings.SITE_PORT
    default_port = {"http": "80", "https": "443"}[settings.SITE_SCHEME]
    suffix = f":{port}" if port and port != default_port else ""
    return f"{settings.SITE_SCHEME}://{host}{suffix}/"


def ensure_platform() -> Client:
    """The public tenant: the platform site served at BASE_DOMAIN."""
    public, _created = Client.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "TuneAIBot platform", "slug": "public"},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    return public


def ensure_template_schema(*, verbosity: int = 0) -> None:
    """Create and migrate the template schema new clients are cloned from.

    Cloning one migrated schema is far faster than running every migration
    per client; this must run after every deploy that adds migrations.
    """
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=template, interactive=False,
        verbosity=verbosity,
    )


@dataclass
class MigrationReport:
    """What `migrate_all` did: per schema, the migrations applied, or why it failed."""

    applied: dict[str, int]
    failed: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.failed


def _applied_count(schema: str) -> int:
    from django.db.migrations.recorder import MigrationRecorder

    with schema_context(schema):
        recorder = MigrationRecorder(connection)
        return len(recorder.applied_migrations()) if recorder.has_table() else 0


def migrate_all(*, verbosity: int = 0, on_schema=None) -> MigrationReport:
    """Bring the public schema, the template and every client up to date.

    The public schema goes first (a failure there stops everything: clients
    are its rows). Then the template and each client, one at a time: a client
    whose migration fails is noted and the others go on; `on_schema(name,
    applied, error)` hears of each as it finishes. Running it again picks up
    where it stopped (applied migrations are not run twice).
    """
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    ensure_platform()
    report = MigrationReport(applied={}, failed={})
    schemas = [(settings.TENANT_BASE_SCHEMA, settings.TENANT_BASE_SCHEMA)] + list(
        Client.objects.exclude(schema_name=get_public_schema_name())
        .order_by("slug").values_list("slug", "schema_name"))
    for name, schema in schemas:
        before = _applied_count(schema) if schema_exists(schema) else 0
        error = ""
        try:
            if schema == settings.TENANT_BASE_SCHEMA:
                ensure_template_schema(verbosity=verbosity)
            else:
                call_command("migrate_schemas", tenant=True, schema_name=schema,
                             interactive=False, verbosity=verbosity)
        except Exception as exc:  # noqa: BLE001 - reported with the schema's name, others go on
            logger.exception("Migrating %s failed", name)
            error = f"{exc.__class__.__name__}: {exc}".strip()
            report.failed[name] = error
            connection.close()  # a failed statement may leave the session unusable
        tenant_connection().set_schema_to_public()
        applied = _applied_count(schema) - before if schema_exists(schema) else 0
        report.applied[name] = applied
        if on_schema is not None:
            on_schema(name, applied, error)
    return report


def normalize_country(country: str) -> str:
    """The ISO 3166 alpha-2 code, upper-case; ProvisioningError if unknown."""
    code = (country or "").strip().upper()
    if code not in SUPPORTED_REGIONS:
        raise ProvisioningError(
            gettext("'%(country)s' is not a country code we know; use a two-letter ISO 3166 "
                    "code such as KR, JP or US.") % {"country": country}
        )
    return code


def validate_new_client(*, name: str, slug: str, admin_email: str, country: str = "US") -> None:
    """Raise ProvisioningError with a sentence if any input is unusable."""
    normalize_country(country)
    if not name.strip():
        raise ProvisioningError(_("The client needs a name."))
    if len(name) > 120:
        raise ProvisioningError(_("The client name is too long (120 characters at most)."))
    if not SLUG_PATTERN.match(slug):
        raise ProvisioningError(
            _("“%(slug)s” is not a valid slug: use 3-40 lowercase letters, digits and "
              "hyphens, starting with a letter and not ending with a hyphen.") % {"slug": slug}
        )
    if slug in RESERVED_SLUGS:
        raise ProvisioningError(
            _("“%(slug)s” is reserved by the platform; choose another slug.") % {"slug": slug})
    try:
        validate_email(admin_email)
    except ValidationError as exc:
        raise ProvisioningError(_("“%(email)s” is not a valid email address.") % {
            "email": admin_email}) from exc
    host = f"{slug}.{settings.BASE_DOMAIN}"
    if Client.objects.filter(slug=slug).exists():
        raise ProvisioningError(
            _("A client with the slug “%(slug)s” already exists.") % {"slug": slug})
    if Domain.objects.filter(domain=host).exists():
        raise ProvisioningError(
            _("The domain %(host)s is already in use by another client.") % {"host": host})
    if schema_exists(schema_name_for(slug)):
        raise ProvisioningError(
            _("A database schema named “%(schema)s” already exists; choose another slug.")
            % {"schema": schema_name_for(slug)}
        )


def create_client(
    *, name: str, slug: str, admin_email: str, admin_password: str | None = None,
    country: str = "US", second_factor: str = Client.SecondFactor.ADMINS,
) -> ProvisionedClient:
    """Create a client: its schema (cloned), primary domain, first tenant admin
    and data controls whose default kinds of personal data follow ``country``.
    ``second_factor``: who must use two-step sign-in (tenant admins, the
    production default; only the local demo turns it off).

    All of it happens in one transaction (PostgreSQL DDL is transactional), so
    a failure anywhere leaves no schema, domain or row behind.
    """
    slug = slug.strip().lower()
    admin_email = admin_email.strip().lower()
    tenant_connection().set_schema_to_public()  # clients are rows of the public schema
    validate_new_client(name=name, slug=slug, admin_email=admin_email, country=country)
    country = normalize_country(country)
    password = admin_password or secrets.token_urlsafe(12)
    schema = schema_name_for(slug)
    try:
        with transaction.atomic():
            client = Client(schema_name=schema, name=name.strip(), slug=slug, country=country,
                            second_factor=second_factor)
            client.save(verbosity=0)
            domain = Domain.objects.create(
                domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=client, is_primary=True
            )
            with schema_context(schema):
                admin = User.objects.create_user(
                    admin_email, password, role=User.Role.ADMIN
                )
                # After the clone: whatever the template held, the new client's
                # defaults are its country's. The steps live in the apps above
                # (compliance's data controls); config names them, so tenants
                # imports none of those apps.
                for step in settings.CLIENT_SETUP_STEPS:
                    import_string(step)(country=country)
    except ProvisioningError:
        raise
    except Exception as exc:
        logger.exception("Provisioning client %s failed", slug)
        raise ProvisioningError(
            _("Could not create client “%(slug)s”: %(error)s. Nothing was kept; check the "
              "logs and try again.") % {"slug": slug, "error": exc.__class__.__name__}
        ) from exc
    finally:
        tenant_connection().set_schema_to_public()
    return ProvisionedClient(client=client, domain=domain, admin=admin, admin_password=password)


def set_client_status(*, client: Client, status: str) -> Client:
    if status not in Client.Status.values:
        raise ProvisioningError(_("Unknown status “%(status)s”.") % {"status": status})
    client.status = status
    client.save(update_fields=["status"])
    return client


def client_media_root(client: Client) -> Path:
    return Path(settings.MEDIA_ROOT) / client.schema_name


def delete_client(*, client: Client) -> None:
    """Erase a client: its schema (all its data) and its stored files."""
    if client.schema_name == get_public_schema_name():
        raise ProvisioningError(_("The platform itself cannot be deleted."))
    media = client_media_root(client)
    with transaction.atomic():
        client.delete(force_drop=True)
    # Files go after the schema is gone for good, so a failed drop keeps both.
    shutil.rmtree(media, ignore_errors=True)
    logger.info("Client %s deleted: schema dropped, files erased", client.slug)
