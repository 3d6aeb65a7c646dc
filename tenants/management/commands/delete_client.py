from django.core.management.base import BaseCommand, CommandError

from tenants import selectors, services
from tenants.models import Client


class Command(BaseCommand):
    help = "Delete a client for good: drops its schema and erases its stored files."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation")

    def handle(self, *args, slug, yes, **options):
        try:
            client = selectors.get_client(slug=slug)
        except Client.DoesNotExist as exc:
            raise CommandError(f"No client with the slug '{slug}'.") from exc
        if not yes:
            answer = input(f"Erase {client.name} ({slug}) and all its data? Type the slug: ")
            if answer.strip() != slug:
                raise CommandError("Not confirmed; nothing was deleted.")
        services.delete_client(client=client)
        self.stdout.write(self.style.SUCCESS(f"Deleted {slug}: schema dropped, files erased."))
