# Hand-written: every client has its data-controls row (created here, in the
# template schema new clients are cloned from, and in existing clients, with the
# kinds of data of the client's country), so the selector that reads it never
# writes. compliance.services.apply_country_defaults sets a new client's country
# defaults on the row it cloned.

from django.db import migrations
from django_tenants.utils import get_public_schema_name


def create_row(apps, schema_editor):
    from compliance.entities import default_entities_for

    DataControls = apps.get_model("compliance", "DataControls")
    if DataControls.objects.exists():
        return
    country = ""
    schema = schema_editor.connection.schema_name
    if schema != get_public_schema_name():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f'SELECT country FROM "{get_public_schema_name()}".tenants_client '  # noqa: S608
                "WHERE schema_name = %s", [schema])
            row = cursor.fetchone()
        country = row[0] if row else ""
    DataControls.objects.create(pk=1, redaction_entities=default_entities_for(country))


class Migration(migrations.Migration):

    dependencies = [("compliance", "0004_overview_languages")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
