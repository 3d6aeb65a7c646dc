"""The data controls are read without writing: every client has its row (made
by migration 0005_data_controls_row in the template, set to the client's
country at provisioning), and without one the selector returns unsaved
defaults that the service saves."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from compliance import selectors, services
from compliance.entities import default_entities_for
from compliance.models import DataControls


def test_a_new_client_has_its_row_and_reading_it_only_selects(make_client):
    result = make_client("ctrl", country="jp")
    with schema_context(result.client.schema_name):
        assert DataControls.objects.count() == 1
        with CaptureQueriesContext(connection) as captured:
            controls = selectors.get_data_controls()
        assert controls.redaction_entities == default_entities_for("JP")
    statements = [query["sql"].lstrip().split()[0].upper() for query in captured]
    assert statements and set(statements) == {"SELECT"}


def test_without_the_row_the_defaults_are_returned_unsaved_and_saved_by_the_service(
        make_client):
    result = make_client("ctrl", country="kr")
    with tenant_context(result.client):  # as in a request: the client's country is known
        DataControls.objects.all().delete()
        controls = selectors.get_data_controls()
        assert controls.redaction_entities == default_entities_for("KR")
        assert not DataControls.objects.exists(), "a read never creates the row"

        services.update_data_controls(controls=controls, conversation_retention_days=30)

        saved = DataControls.objects.get()
        assert saved.pk == 1 and saved.conversation_retention_days == 30
        assert saved.redaction_entities == default_entities_for("KR")
