# Message versions (edit and resend, regenerate: ‹ 1/2 ›) and the prompt
# library. Existing messages get their parent: an answer follows its
# question; a question follows the newest answer written before it (the
# answer it was asked after, also on a branch left by an earlier
# regenerate). What was shown stays shown: chosen = not superseded.
#
# Rewritten (issue 29) so a populated client upgrades, also a big one:
# the first version added a deferred foreign key and indexes and UPDATEd the
# rows in one transaction, and PostgreSQL refused the indexes while the
# updates' constraint triggers were pending ("cannot CREATE INDEX
# chat_message because it has pending trigger events"). Now the migration is
# not atomic and goes step by step, each step its own short transaction:
#   1. columns (no table rewrite: a nullable column, a constant default);
#   2. the foreign key NOT VALID (new rows are checked, old ones not yet);
#   3. the data, in batches of ids, each committed on its own;
#   4. indexes CONCURRENTLY (reads and writes go on meanwhile);
#   5. VALIDATE the foreign key (it blocks no reads or writes).
# Every step can run again after an interruption. The resulting schema (names
# included) is the one the first version made, so a database that already
# applied it is left as it is: Django does not run an applied migration again.

import django.db.models.deletion
from django.db import migrations, models, transaction

BATCH = 20_000

PARENT_FIELD = models.ForeignKey(
    blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
    related_name='children', to='chat.message')
SHOWN_INDEX = models.Index(fields=['conversation', 'superseded', 'id'], name='message_shown')


def _fk_constraint_name(apps, schema_editor) -> str:
    Message = apps.get_model('chat', 'Message')
    field = Message._meta.get_field('parent')
    name = schema_editor._fk_constraint_name(Message, field, '_fk_%(to_table)s_%(to_column)s')
    return str(name).strip('"')


def add_columns_and_foreign_key(apps, schema_editor):
    Message = apps.get_model('chat', 'Message')
    field = Message._meta.get_field('parent')
    name = _fk_constraint_name(apps, schema_editor)
    with transaction.atomic(using=schema_editor.connection.alias), \
            schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE chat_message ADD COLUMN IF NOT EXISTS chosen boolean "
                       "DEFAULT true NOT NULL")
        cursor.execute("ALTER TABLE chat_message ALTER COLUMN chosen DROP DEFAULT")
        cursor.execute("ALTER TABLE chat_message ADD COLUMN IF NOT EXISTS parent_id bigint NULL")
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s "
                       "AND conrelid = 'chat_message'::regclass", [name])
        if cursor.fetchone() is None:
            sql = str(schema_editor._create_fk_sql(
                Message, field, '_fk_%(to_table)s_%(to_column)s'))
            cursor.execute(sql + " NOT VALID")


def drop_columns(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE chat_message DROP COLUMN IF EXISTS parent_id, "
                       "DROP COLUMN IF EXISTS chosen")


def fill_parents_and_chosen(apps, schema_editor):
    """The data step, in id ranges: each batch is its own short transaction."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM chat_message")
        low, high = cursor.fetchone()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        end = start + BATCH - 1
        with transaction.atomic(using=schema_editor.connection.alias), \
                schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE chat_message SET parent_id = reply_to_id "
                "WHERE role = 'assistant' AND id BETWEEN %s AND %s", [start, end])
            cursor.execute(
                """UPDATE chat_message AS q SET parent_id = (
                       SELECT max(a.id) FROM chat_message AS a
                       WHERE a.conversation_id = q.conversation_id
                         AND a.role = 'assistant' AND a.id < q.id)
                   WHERE q.role = 'user' AND q.id BETWEEN %s AND %s""", [start, end])
            cursor.execute(
                "UPDATE chat_message SET chosen = NOT superseded "
                "WHERE id BETWEEN %s AND %s AND chosen = superseded", [start, end])


def _create_index_concurrently(schema_editor, name: str, sql: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
                       [name])
        row = cursor.fetchone()
        if row is not None and row[0]:
            return
        if row is not None:  # an interrupted concurrent build leaves an invalid index
            cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        cursor.execute(sql)


def create_indexes(apps, schema_editor):
    Message = apps.get_model('chat', 'Message')
    parent_sql = schema_editor._create_index_sql(
        Message, fields=[Message._meta.get_field('parent')], concurrently=True)
    _create_index_concurrently(schema_editor, str(parent_sql.parts['name']).strip('"'),
                               str(parent_sql))
    shown_sql = SHOWN_INDEX.create_sql(Message, schema_editor, concurrently=True)
    _create_index_concurrently(schema_editor, SHOWN_INDEX.name, str(shown_sql))


def validate_foreign_key(apps, schema_editor):
    name = _fk_constraint_name(apps, schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE chat_message VALIDATE CONSTRAINT "{name}"')


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('chat', '0010_bot_config_row'),
    ]

    operations = [
        migrations.CreateModel(
            name='Prompt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=80, verbose_name='title')),
                ('text', models.TextField(max_length=4000, verbose_name='text')),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('updated', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['title', 'id'],
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name='message', name='chosen',
                                    field=models.BooleanField(default=True)),
                migrations.AddField(model_name='message', name='parent', field=PARENT_FIELD),
                migrations.AddIndex(model_name='message', index=SHOWN_INDEX),
            ],
        ),
        migrations.RunPython(add_columns_and_foreign_key, drop_columns),
        migrations.RunPython(fill_parents_and_chosen, migrations.RunPython.noop),
        migrations.RunPython(create_indexes, migrations.RunPython.noop),
        migrations.RunPython(validate_foreign_key, migrations.RunPython.noop),
    ]
