from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    """A client company. Its data lives in its own PostgreSQL schema."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=40, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Where the client's people are (ISO 3166 alpha-2): picks the kinds of
    # personal data redacted by default (Korean ids for "KR", ...).
    country = models.CharField(
        max_length=2, default="US",
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter country code such as KR."))],
        help_text=_("Two-letter ISO 3166 country code, e.g. KR, JP or US."))
    created = models.DateTimeField(auto_now_add=True)
    # The workspace's language for members who chose none (a tenant admin
    # setting); blank: each browser's own language.
    default_language = models.CharField(_("default language"), max_length=8, blank=True,
                                        choices=settings.LANGUAGES)
    # Fair share between clients (chat answers in flight at once); blank: the
    # platform default, CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT.
    answers_in_flight_limit = models.PositiveIntegerField(
        _("answers in flight"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("How many of this client's chat answers may be written at once; more "
                    "wait in line, shown as queued. Blank: the platform default."))
    answers_in_flight_per_person = models.PositiveIntegerField(
        _("answers in flight per person"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("How many of them one person may have at once, so a colleague always "
                    "finds room; the line is served in turn between people. Blank: half "
                    "the client's limit (at least 1)."))

    class SecondFactor(models.TextChoices):
        OFF = "off", _("Not required")
        ADMINS = "admins", _("Required for tenant admins")
        EVERYONE = "everyone", _("Required for everyone")

    # Who must give a second factor after their password (tenants.two_step);
    # people who sign in through the client's single sign-on are never asked.
    second_factor = models.CharField(
        _("two-step sign-in"), max_length=16, choices=SecondFactor.choices,
        default=SecondFactor.ADMINS,
        help_text=_("Who must confirm a password sign-in with an authenticator app or a "
                    "passkey. People who sign in with single sign-on are not asked."))

    # The schema is created by tenants.services (cloned from the template) and
    # dropped with the client: deleting a client is real erasure.
    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the migrated template (tenants.cloning) when there is one;
        otherwise django-tenants creates the schema and runs every migration."""
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import schema_exists

        from tenants import cloning

        template = getattr(settings, "TENANT_BASE_SCHEMA", None)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        if not (sync_schema and settings.TENANT_CREATION_FAKES_MIGRATIONS and template
                and schema_exists(template)):
            return super().create_schema(check_if_exists=check_if_exists,
                                         sync_schema=sync_schema, verbosity=verbosity)
        cloning.clone(template=template, schema=self.schema_name)
        connection.set_schema_to_public()
        return True


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain
