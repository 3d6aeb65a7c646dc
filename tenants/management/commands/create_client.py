from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = "Create a client: its schema, primary domain and first tenant admin."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Lowercase letters, digits and hyphens, e.g. acme")
        parser.add_argument("--name", required=True, help="The client's company name")
        parser.add_argument("--admin-email", required=True, help="Email of the first tenant admin")

    def handle(self, *args, slug, name, admin_email, **options):
        try:
            result = services.create_client(name=name, slug=slug, admin_email=admin_email)
        except services.ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created client {result.client.name}"))
        self.stdout.write(f"  URL:            {services.site_url(result.domain.domain)}")
        self.stdout.write(f"  Tenant admin:   {result.admin.email}")
        self.stdout.write(f"  Password:       {result.admin_password}  (shown once)")
