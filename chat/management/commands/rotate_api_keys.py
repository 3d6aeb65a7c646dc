from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from chat import selectors, services
from tenants.selectors import list_clients


class Command(BaseCommand):
    help = (
        "Re-encrypt every client's stored API key with the newest key in "
        "TUNEAIBOT_ENCRYPTION_KEYS. Put the new key first, keep the old ones listed, "
        "run this, then remove the old ones."
    )

    def handle(self, *args, **options):
        rotated = 0
        for client in list_clients():
            with schema_context(client.schema_name):
                rotated += services.rotate_api_key(config=selectors.get_bot_config())
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} stored API key(s)."))
