# Questions from the OpenAI-compatible API (issue 26): where a conversation
# came from, and whether it is kept in the person's history.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0011_message_versions_and_prompts'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='source',
            field=models.CharField(choices=[('chat', 'Chat'), ('api', 'API')], default='chat',
                                   max_length=8),
        ),
        migrations.AddField(
            model_name='conversation',
            name='in_history',
            field=models.BooleanField(default=True),
        ),
    ]
