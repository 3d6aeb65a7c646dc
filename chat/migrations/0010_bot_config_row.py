# Hand-written: every client has its bot configuration row (created here, in the
# template schema new clients are cloned from, and in existing clients), so the
# selector that reads it never writes.

from django.db import migrations


def create_row(apps, schema_editor):
    BotConfig = apps.get_model("chat", "BotConfig")
    if not BotConfig.objects.exists():
        BotConfig.objects.create(pk=1)


class Migration(migrations.Migration):

    dependencies = [("chat", "0009_knowledge_moves_to_its_own_app")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
