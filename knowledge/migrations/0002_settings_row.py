# Hand-written: every client has its knowledge settings row (created here, in
# the template schema new clients are cloned from, and in existing clients), so
# the selector that reads it never writes.

from django.db import migrations


def create_row(apps, schema_editor):
    KnowledgeSettings = apps.get_model("knowledge", "KnowledgeSettings")
    if not KnowledgeSettings.objects.exists():
        KnowledgeSettings.objects.create(pk=1)


class Migration(migrations.Migration):

    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
