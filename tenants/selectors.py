from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from tenants.models import Client


def list_clients() -> QuerySet[Client]:
    return (
        Client.objects.exclude(schema_name=get_public_schema_name())
        .prefetch_related("domains")
        .order_by("slug")
    )


def get_client(*, slug: str) -> Client:
    return Client.objects.exclude(schema_name=get_public_schema_name()).get(slug=slug)
