# Hand-written. Korean and Japanese search (knowledge.search): create the SQL
# functions in `public`, then rebuild both generated search columns with them.
# Dropping and re-adding a generated column recomputes it for every existing
# row (messages and knowledge chunks), so this migration re-indexes each
# client's data; it runs on the template schema and on every client.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import knowledge.search


class Migration(migrations.Migration):

    dependencies = [("chat", "0007_knowledgefile_library_sha256")]

    operations = [
        # Reversed, the functions stay: they live in `public`, and the other
        # clients' columns still use them until their own reversal.
        migrations.RunSQL(knowledge.search.FUNCTIONS_SQL, migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="message", name="message_search"),
        migrations.RemoveField(model_name="message", name="search"),
        migrations.AddField(
            model_name="message",
            name="search",
            field=models.GeneratedField(
                db_persist=True,
                expression=knowledge.search.CJKSearchVector("content", config="simple"),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search"],
                                                           name="message_search"),
        ),
        migrations.RemoveIndex(model_name="knowledgechunk", name="kchunk_search"),
        migrations.RemoveField(model_name="knowledgechunk", name="search"),
        migrations.AddField(
            model_name="knowledgechunk",
            name="search",
            field=models.GeneratedField(
                db_persist=True,
                expression=knowledge.search.CJKSearchVector("heading", config="english", weight="A")
                + knowledge.search.CJKSearchVector("text", config="english", weight="B"),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="knowledgechunk",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search"],
                                                           name="kchunk_search"),
        ),
    ]
