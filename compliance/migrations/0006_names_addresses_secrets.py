# Hand-written: the kinds of data added with names, addresses and secrets are
# switched on for existing clients too (they are on by default for new ones in
# every country), and the choice to restore secrets in answers (off).

from django.db import migrations, models

ADDED = ("MEMBER_NAME", "PERSON", "POSTAL_ADDRESS", "SECRET")


def switch_on(apps, schema_editor):
    DataControls = apps.get_model("compliance", "DataControls")
    for row in DataControls.objects.all():
        chosen = list(row.redaction_entities or [])
        row.redaction_entities = chosen + [e for e in ADDED if e not in chosen]
        row.save(update_fields=["redaction_entities"])


class Migration(migrations.Migration):

    dependencies = [("compliance", "0005_data_controls_row")]

    operations = [
        migrations.AddField(
            model_name="datacontrols",
            name="restore_secrets",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(switch_on, migrations.RunPython.noop),
    ]
