from django.core.management.base import BaseCommand

from tenants import selectors, services


class Command(BaseCommand):
    help = "List clients with their status and URL."

    def handle(self, *args, **options):
        clients = list(selectors.list_clients())
        if not clients:
            self.stdout.write("No clients yet. Create one with: manage.py create_client")
            return
        for client in clients:
            url = services.site_url(services.client_host(client))
            self.stdout.write(f"{client.slug:<24} {client.status:<10} {client.name:<30} {url}")
