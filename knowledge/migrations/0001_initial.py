# Hand-edited. The knowledge models, moved from chat, on the tables chat
# created (0003_knowledge .. 0008_cjk_search): state only, no table is
# created or altered (chat 0009 removes them from chat's state).

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import knowledge.search
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    """The models' content types follow them (no stale chat.knowledge* rows)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in ("knowledgesettings", "knowledgefile", "knowledgechunk"):
        if not ContentType.objects.using(db).filter(app_label="knowledge", model=model).exists():
            ContentType.objects.using(db).filter(app_label="chat", model=model).update(
                app_label="knowledge")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('chat', '0009_knowledge_moves_to_its_own_app'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='KnowledgeSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('semantic_search', models.BooleanField(default=True, help_text='Also index files as embeddings, to find passages by meaning.')),
                        ('embedding_provider', models.CharField(choices=[('local', 'Local model (documents stay in the workspace)'), ('api', 'Embeddings API (sends document text to the API)')], default='local', max_length=8)),
                        ('embedding_model', models.CharField(blank=True, max_length=200)),
                        ('updated', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'verbose_name_plural': 'knowledge settings',
                        'db_table': 'chat_knowledgesettings',
                    },
                ),
                migrations.CreateModel(
                    name='KnowledgeFile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('display_name', models.CharField(max_length=200)),
                        ('storage_name', models.CharField(max_length=100, unique=True)),
                        ('kind', models.CharField(max_length=8)),
                        ('size_bytes', models.PositiveBigIntegerField()),
                        ('sha256', models.CharField(max_length=64)),
                        ('library_sha256', models.CharField(blank=True, max_length=64, null=True, unique=True)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('processing', 'Processing'), ('ready', 'Ready'), ('failed', 'Failed')], default='queued', max_length=16)),
                        ('generation', models.PositiveIntegerField(default=1)),
                        ('progress_done', models.PositiveIntegerField(default=0)),
                        ('progress_total', models.PositiveIntegerField(default=0)),
                        ('error_code', models.CharField(blank=True, max_length=40)),
                        ('error', models.TextField(blank=True)),
                        ('embedding_note', models.TextField(blank=True)),
                        ('page_count', models.PositiveIntegerField(blank=True, null=True)),
                        ('chunk_count', models.PositiveIntegerField(default=0)),
                        ('embedded_chunks', models.PositiveIntegerField(default=0)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('indexed_at', models.DateTimeField(blank=True, null=True)),
                        ('conversation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='chat.conversation')),
                        ('uploaded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'chat_knowledgefile',
                        'ordering': ['-created', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='KnowledgeChunk',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('index', models.PositiveIntegerField()),
                        ('page', models.PositiveIntegerField(blank=True, null=True)),
                        ('heading', models.CharField(blank=True, max_length=300)),
                        ('text', models.TextField()),
                        ('char_count', models.PositiveIntegerField()),
                        ('search', models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.CombinedSearchVector(knowledge.search.CJKSearchVector('heading', config='english', weight='A'), '||', knowledge.search.CJKSearchVector('text', config='english', weight='B'), django.contrib.postgres.search.SearchConfig('english')), output_field=django.contrib.postgres.search.SearchVectorField())),
                        ('file', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='knowledge.knowledgefile')),
                    ],
                    options={
                        'db_table': 'chat_knowledgechunk',
                        'ordering': ['file_id', 'index'],
                    },
                ),
                migrations.AddIndex(
                    model_name='knowledgefile',
                    index=models.Index(fields=['conversation', '-created'], name='kfile_conv_recent'),
                ),
                migrations.AddIndex(
                    model_name='knowledgechunk',
                    index=django.contrib.postgres.indexes.GinIndex(fields=['search'], name='kchunk_search'),
                ),
                migrations.AddConstraint(
                    model_name='knowledgechunk',
                    constraint=models.UniqueConstraint(fields=('file', 'index'), name='kchunk_file_index'),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
