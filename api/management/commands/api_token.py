"""Staff issue a personal access token for an integration; printed once, last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from api import services
from tenants import selectors
from tenants.members.models import User
from tenants.models import Client


class Command(BaseCommand):
    help = ("Make an API token for a member of a client; the token is printed once, on the "
            "last line (only its hash is kept).")

    def add_arguments(self, parser):
        parser.add_argument("client", help="the client's slug")
        parser.add_argument("email", help="the member's e-mail address")
        parser.add_argument("--name", default="Integration")
        parser.add_argument("--days", type=int, default=services.DEFAULT_DAYS)

    def handle(self, *args, client, email, name, days, **options):
        try:
            found = selectors.get_client(slug=client)
        except Client.DoesNotExist as exc:
            raise CommandError(f"No client with the slug '{client}'.") from exc
        with schema_context(found.schema_name):
            try:
                user = User.objects.get_by_natural_key(email)
            except User.DoesNotExist as exc:
                raise CommandError(f"No member {email} in {found.slug}.") from exc
            try:
                token, secret = services.create_token(user=user, name=name, days=days)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(f"Token '{token.name}' for {user.email} in {found.slug}, expires "
                          f"{token.expires_at:%Y-%m-%d}. Shown once:")
        self.stdout.write(secret)
