from django.db import connection
from django_tenants.utils import get_public_schema_name


def workspace(request):
    tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
    is_public = tenant is None or tenant.schema_name == get_public_schema_name()
    return {"workspace": None if is_public else tenant}
