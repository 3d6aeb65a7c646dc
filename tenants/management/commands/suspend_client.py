from django.core.management.base import BaseCommand, CommandError

from tenants import selectors, services
from tenants.models import Client


class Command(BaseCommand):
    help = "Suspend a client (its site shows a 'suspended' page), or reactivate it."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--reactivate", action="store_true")

    def handle(self, *args, slug, reactivate, **options):
        try:
            client = selectors.get_client(slug=slug)
        except Client.DoesNotExist as exc:
            raise CommandError(f"No client with the slug '{slug}'.") from exc
        status = Client.Status.ACTIVE if reactivate else Client.Status.SUSPENDED
        services.set_client_status(client=client, status=status)
        self.stdout.write(self.style.SUCCESS(f"{client.slug} is now {status}."))
