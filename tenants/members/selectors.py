from django.db.models import QuerySet

from tenants.members.models import User


def list_members() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "email")
