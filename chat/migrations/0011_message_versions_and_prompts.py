# Message versions (edit and resend, regenerate: ‹ 1/2 ›) and the prompt
# library. Existing messages get their parent in one UPDATE per rule: an
# answer follows its question; a question follows the newest answer written
# before it (the answer it was asked after, also on a branch left by an
# earlier regenerate). What was shown stays shown: chosen = not superseded.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

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
        migrations.AddField(
            model_name='message',
            name='chosen',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='message',
            name='parent',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='children', to='chat.message'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(fields=['conversation', 'superseded', 'id'], name='message_shown'),
        ),
        migrations.RunSQL(
            [
                "UPDATE chat_message SET parent_id = reply_to_id WHERE role = 'assistant'",
                """UPDATE chat_message AS q SET parent_id = (
                       SELECT max(a.id) FROM chat_message AS a
                       WHERE a.conversation_id = q.conversation_id
                         AND a.role = 'assistant' AND a.id < q.id)
                   WHERE q.role = 'user'""",
                "UPDATE chat_message SET chosen = NOT superseded",
            ],
            migrations.RunSQL.noop,
        ),
    ]
