"""A client's country picks its default kinds of personal data (issue 13):
provisioning sets them after the template clone, the command takes
--country, and the tenant admin can change the choice."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from compliance import selectors
from compliance.entities import default_entities_for
from tenants import services
from tenants.models import Client
from tests.support.accounts import signed_in_client


def test_a_korean_client_starts_with_korean_ids(make_client):
    result = make_client("kr", country="kr")

    assert result.client.country == "KR"
    assert Client.objects.get(pk=result.client.pk).country == "KR"
    with schema_context(result.client.schema_name):
        chosen = selectors.get_data_controls().redaction_entities
    assert chosen == default_entities_for("KR")
    assert {"KR_RRN", "KR_BRN", "EMAIL_ADDRESS"} <= set(chosen)
    assert "US_SSN" not in chosen and "JP_MY_NUMBER" not in chosen


def test_without_a_country_a_client_keeps_the_previous_default(make_client):
    result = make_client("us")

    assert result.client.country == "US"
    with schema_context(result.client.schema_name):
        chosen = selectors.get_data_controls().redaction_entities
    assert chosen == default_entities_for("US")
    assert "US_SSN" in chosen and "KR_RRN" not in chosen


def test_an_unknown_country_is_refused_and_leaves_nothing(live_db):
    with pytest.raises(services.ProvisioningError, match="not a country code we know"):
        services.create_client(name="Nowhere", slug="nowhere-co", admin_email="a@example.com",
                               country="XQ")

    assert not Client.objects.filter(slug="nowhere-co").exists()
    assert not schema_exists("nowhere_co")


def test_the_create_client_command_takes_a_country(live_db):
    out = io.StringIO()
    try:
        call_command("create_client", "tokyo-co", name="Tokyo Co", admin_email="a@example.com",
                     country="JP", stdout=out)
        client = Client.objects.get(slug="tokyo-co")
        assert client.country == "JP"
        assert "Country:        JP" in out.getvalue()
        with schema_context(client.schema_name):
            assert selectors.get_data_controls().redaction_entities == default_entities_for("JP")
    finally:
        connection.set_schema_to_public()
        for client in Client.objects.filter(slug="tokyo-co"):
            services.delete_client(client=client)

    with pytest.raises(CommandError, match="not a country code we know"):
        call_command("create_client", "bad-country", name="Bad", admin_email="a@example.com",
                     country="Korea", stdout=io.StringIO())
    assert not Client.objects.filter(slug="bad-country").exists()


def _data_controls_form(**overrides):
    form = {"redaction_enabled": "on", "redaction_terms": "", "conversation_retention_days": "",
            "file_retention_days": "", "monthly_token_quota": "", "user_monthly_token_quota": ""}
    form.update(overrides)
    return form


def test_the_tenant_admin_can_change_the_kinds_of_data(make_client, host_client):
    result = make_client("krui", country="KR")
    browser = signed_in_client(result)

    page = browser.get("/settings/data-controls/").content.decode()
    assert "Korean resident registration numbers (주민등록번호)" in page
    assert "Japanese My Numbers (マイナンバー)" in page

    saved = browser.post("/settings/data-controls/", _data_controls_form(
        redaction_entities=["EMAIL_ADDRESS", "KR_RRN", "JP_MY_NUMBER"]))
    assert saved.status_code == 302
    with schema_context(result.client.schema_name):
        assert selectors.get_data_controls().redaction_entities == [
            "EMAIL_ADDRESS", "KR_RRN", "JP_MY_NUMBER"]

    refused = browser.post("/settings/data-controls/", _data_controls_form(
        redaction_entities=["EMAIL_ADDRESS", "NOT_A_KIND"]))
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    with schema_context(result.client.schema_name):
        assert selectors.get_data_controls().redaction_entities == [
            "EMAIL_ADDRESS", "KR_RRN", "JP_MY_NUMBER"]


def test_platform_staff_pick_the_country_when_adding_a_client_in_the_admin(staff, host_client):
    browser = host_client(settings.BASE_DOMAIN)
    browser.force_login(staff)
    try:
        form = browser.get("/admin/tenants/client/add/").content.decode()
        assert 'name="country"' in form

        refused = browser.post("/admin/tenants/client/add/", {
            "name": "Osaka Co", "slug": "osaka-co", "country": "ZZ",
            "admin_email": "boss@osaka.example"})
        assert refused.status_code == 200
        assert "not a country code we know" in refused.content.decode()
        assert not Client.objects.filter(slug="osaka-co").exists()

        added = browser.post("/admin/tenants/client/add/", {
            "name": "Osaka Co", "slug": "osaka-co", "country": "JP",
            "admin_email": "boss@osaka.example"})
        assert added.status_code == 302
        client = Client.objects.get(slug="osaka-co")
        assert client.country == "JP"
        with schema_context(client.schema_name):
            assert selectors.get_data_controls().redaction_entities == default_entities_for("JP")
    finally:
        connection.set_schema_to_public()
        for client in Client.objects.filter(slug="osaka-co"):
            services.delete_client(client=client)
