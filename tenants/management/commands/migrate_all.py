from django.core.management.base import BaseCommand

from tenants import services


class Command(BaseCommand):
    help = "Migrate the public schema, the client template schema and every client."

    def handle(self, *args, verbosity=1, **options):
        services.migrate_all(verbosity=max(0, verbosity - 1))
        self.stdout.write(self.style.SUCCESS("All schemas are up to date."))
