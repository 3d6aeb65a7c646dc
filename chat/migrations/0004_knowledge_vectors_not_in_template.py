# Hand-written. An early version of 0003_knowledge created the pgvector table in
# every migrated schema, including the template that new clients are cloned
# from; cloning drops the vector column's dimensions and fails. The table now
# belongs only to clients that enable semantic search, so remove it from the
# template (clients keep theirs).

from django.db import migrations


def drop_from_template(apps, schema_editor):
    from django.conf import settings

    connection = schema_editor.connection
    if getattr(connection, "schema_name", None) != settings.TENANT_BASE_SCHEMA:
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS chat_knowledgevector")


class Migration(migrations.Migration):

    dependencies = [("chat", "0003_knowledge")]

    operations = [migrations.RunPython(drop_from_template, migrations.RunPython.noop)]
