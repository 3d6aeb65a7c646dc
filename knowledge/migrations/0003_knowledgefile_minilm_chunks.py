from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("knowledge", "0002_settings_row")]

    operations = [
        migrations.AddField(
            model_name="knowledgefile",
            name="minilm_chunks",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
