# Hand-written: one library entry per file content. Existing library files get
# their hash (the oldest of any duplicates; later duplicates keep NULL and stay
# listed) before the column becomes unique.

from django.db import migrations, models


def fill_library_hashes(apps, schema_editor):
    KnowledgeFile = apps.get_model("chat", "KnowledgeFile")
    seen = set()
    for pk, sha256 in (KnowledgeFile.objects.filter(conversation__isnull=True)
                       .order_by("created", "id").values_list("pk", "sha256")):
        if sha256 and sha256 not in seen:
            seen.add(sha256)
            KnowledgeFile.objects.filter(pk=pk).update(library_sha256=sha256)


class Migration(migrations.Migration):

    dependencies = [("chat", "0006_send_request")]

    operations = [
        migrations.AddField(
            model_name="knowledgefile", name="library_sha256",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(fill_library_hashes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="knowledgefile", name="library_sha256",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
    ]
