"""Creating, suspending and deleting clients, with real schemas."""

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants import services
from tenants.members.models import User
from tenants.models import Client, Domain
from tests.support.accounts import PASSWORD


def test_create_client_makes_schema_domain_and_admin_who_can_log_in(make_client, host_client):
    result = make_client("acme")

    assert schema_exists(result.client.schema_name)
    assert result.domain.domain == f"{result.client.slug}.{settings.BASE_DOMAIN}"
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        assert admin.role == User.Role.ADMIN
        assert admin.check_password(PASSWORD)

    browser = host_client(result.domain.domain)
    response = browser.post(
        "/accounts/login/",
        {"username": "admin@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    home = browser.get("/")
    assert home.status_code == 200
    assert result.client.name in home.content.decode()


def test_generated_admin_password_is_returned_once_and_works(live_db, make_client):
    from tenants.models import Client as ClientModel

    slug = "gen-" + make_client().client.slug[-8:]
    result = services.create_client(name="Gen", slug=slug, admin_email="boss@gen.example")
    try:
        assert len(result.admin_password) >= 12
        with schema_context(result.client.schema_name):
            assert User.objects.get(email="boss@gen.example").check_password(
                result.admin_password
            )
    finally:
        connection.set_schema_to_public()
        services.delete_client(client=ClientModel.objects.get(slug=slug))


@pytest.mark.parametrize(
    ("slug", "email", "message"),
    [
        ("A!", "a@example.com", "not a valid slug"),
        ("public", "a@example.com", "reserved"),
        ("www", "a@example.com", "reserved"),
        ("ok-slug-but", "not-an-email", "not a valid email"),
        ("-bad", "a@example.com", "not a valid slug"),
    ],
)
def test_invalid_input_is_refused_and_leaves_nothing(live_db, slug, email, message):
    clients_before = Client.objects.count()
    domains_before = Domain.objects.count()

    with pytest.raises(services.ProvisioningError, match=message):
        services.create_client(name="X", slug=slug, admin_email=email)

    assert Client.objects.count() == clients_before
    assert Domain.objects.count() == domains_before
    if slug not in services.RESERVED_SLUGS:
        assert not schema_exists(services.schema_name_for(slug.lower()))


def test_taken_slug_and_taken_domain_are_refused(make_client):
    existing = make_client()
    with pytest.raises(services.ProvisioningError, match="already exists"):
        services.create_client(name="Again", slug=existing.client.slug, admin_email="a@b.co")

    # Another client already answers on the host the new slug would get.
    Domain.objects.create(
        domain=f"taken-host.{settings.BASE_DOMAIN}", tenant=existing.client, is_primary=False
    )
    with pytest.raises(services.ProvisioningError, match="already in use"):
        services.create_client(name="Taken", slug="taken-host", admin_email="a@b.co")
    assert not Client.objects.filter(slug="taken-host").exists()
    assert not schema_exists("taken_host")


@pytest.fixture
def domain_insert_fails(live_db):
    """Make PostgreSQL itself refuse a domain row, after the schema was cloned."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION public.refuse_midway_domain() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'simulated outage while saving the domain'; END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_midway_domain BEFORE INSERT ON public.tenants_domain
            FOR EACH ROW WHEN (NEW.domain LIKE 'midway-%%')
            EXECUTE FUNCTION public.refuse_midway_domain();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse_midway_domain ON public.tenants_domain;"
            "DROP FUNCTION public.refuse_midway_domain();"
        )


def test_failure_midway_rolls_back_schema_and_domain(domain_insert_fails):
    """A failure after the schema was cloned leaves no schema, row or domain."""
    with pytest.raises(services.ProvisioningError, match="Nothing was kept"):
        services.create_client(name="Midway", slug="midway-co", admin_email="a@b.co")

    assert not Client.objects.filter(slug="midway-co").exists()
    assert not Domain.objects.filter(domain__startswith="midway-co.").exists()
    assert not schema_exists("midway_co")


def test_delete_client_drops_schema_and_files(live_db):
    result = services.create_client(name="Gone", slug="gone-soon", admin_email="a@b.co")
    media = services.client_media_root(result.client)
    (media / "knowledge").mkdir(parents=True)
    (media / "knowledge" / "secret.txt").write_text("confidential")

    services.delete_client(client=result.client)

    assert not schema_exists("gone_soon")
    assert not Client.objects.filter(slug="gone-soon").exists()
    assert not Domain.objects.filter(domain__startswith="gone-soon.").exists()
    assert not media.exists()


def test_suspended_client_shows_suspended_page(make_client, host_client):
    result = make_client()
    services.set_client_status(client=result.client, status=Client.Status.SUSPENDED)

    response = host_client(result.domain.domain).get("/accounts/login/")

    assert response.status_code == 403
    assert "suspended" in response.content.decode().lower()

    services.set_client_status(client=result.client, status=Client.Status.ACTIVE)
    assert host_client(result.domain.domain).get("/accounts/login/").status_code == 200


def test_platform_cannot_be_deleted(live_db):
    with pytest.raises(services.ProvisioningError):
        services.delete_client(client=services.ensure_platform())
