from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = "Create a client: its schema, primary domain and first tenant admin."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Lowercase letters, digits and hyphens, e.g. acme")
        parser.add_argument("--name", required=True, help="The client's company name")
        parser.add_argument("--admin-email", required=True, help="Email of the first tenant admin")
        parser.add_argument(
            "--country", default="US",
            help="Two-letter ISO 3166 code of where the client's people are (KR, JP, US...); "
            "it picks the kinds of personal data redacted by default. Default: US")

    def handle(self, *args, slug, name, admin_email, country, **options):
        try:
            result = services.create_client(name=name, slug=slug, admin_email=admin_email,
                                             country=country)
        except services.ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created client {result.client.name}"))
        self.stdout.write(f"  URL:            {services.site_url(result.domain.domain)}")
        self.stdout.write(f"  Country:        {result.client.country}")
        self.stdout.write(f"  Tenant admin:   {result.admin.email}")
        self.stdout.write(f"  Password:       {result.admin_password}  (shown once)")
