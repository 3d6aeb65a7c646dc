from django.db.models import QuerySet

from tenants.members.models import User


def list_members() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "email")


def language_for(*, user: User | None, tenant=None) -> str:
    """The language to speak to `user` outside a request (e-mails, worker
    messages): theirs, else the workspace's default, else the site default."""
    from django.conf import settings

    known = {code for code, _name in settings.LANGUAGES}
    for choice in (getattr(user, "language", ""), getattr(tenant, "default_language", "")):
        if choice in known:
            return choice
    return settings.LANGUAGE_CODE
