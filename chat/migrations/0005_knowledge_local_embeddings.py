# Hand-written data step: semantic search is on by default, with embeddings
# computed by a local model (document text stays in the workspace). A client
# that had already turned semantic search on chose the embeddings API, so it
# keeps it; a client that had it off keeps it off until an admin turns it on
# (its library would have to be embedded first, which a migration does not do).

from django.db import migrations, models


def keep_existing_choices(apps, schema_editor):
    KnowledgeSettings = apps.get_model("chat", "KnowledgeSettings")
    KnowledgeSettings.objects.filter(semantic_search=True).update(embedding_provider="api")


class Migration(migrations.Migration):

    dependencies = [("chat", "0004_knowledge_vectors_not_in_template")]

    operations = [
        migrations.AddField(
            model_name="knowledgesettings",
            name="embedding_provider",
            field=models.CharField(
                choices=[("local", "Local model (documents stay in the workspace)"),
                         ("api", "Embeddings API (sends document text to the API)")],
                default="local", max_length=8),
        ),
        migrations.RunPython(keep_existing_choices, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="knowledgesettings",
            name="semantic_search",
            field=models.BooleanField(
                default=True,
                help_text="Also index files as embeddings, to find passages by meaning."),
        ),
    ]
