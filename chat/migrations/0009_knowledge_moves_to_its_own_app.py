# Hand-edited. The knowledge models now belong to the `knowledge` app, which
# keeps their tables (pinned db_table: chat_knowledge*). State only: chat
# forgets them here, knowledge 0001_initial declares them; no SQL runs.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0008_cjk_search'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='knowledgechunk',
                    name='file',
                ),
                migrations.RemoveField(
                    model_name='knowledgefile',
                    name='conversation',
                ),
                migrations.RemoveField(
                    model_name='knowledgefile',
                    name='uploaded_by',
                ),
                migrations.DeleteModel(
                    name='KnowledgeSettings',
                ),
                migrations.DeleteModel(
                    name='KnowledgeChunk',
                ),
                migrations.DeleteModel(
                    name='KnowledgeFile',
                ),
            ],
        ),
    ]
