from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from compliance import services
from tenants.models import Client


class Command(BaseCommand):
    help = "Verify a client's signed (HMAC-chained) audit trail; name the first broken record."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The client's slug")

    def handle(self, *args, slug, **options):
        client = Client.objects.filter(slug=slug).first()
        if client is None:
            raise CommandError(f"No client with slug '{slug}'. See `manage.py list_clients`.")
        with schema_context(client.schema_name):
            check = services.verify_chain()
        if not check.ok:
            raise CommandError(
                f"Audit trail of {slug} is BROKEN at record #{check.broken_seq}: "
                f"{check.reason} ({check.checked} record(s) before it verified).")
        self.stdout.write(self.style.SUCCESS(
            f"Audit trail of {slug} verified: {check.checked} record(s), chain intact."))
