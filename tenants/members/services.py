"""People in a client's workspace: creating, inviting and deactivating them.

Every function runs in the current schema (the client's, set by the request or
by schema_context), so users of one client never see another's.
"""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.members.models import User


class MemberError(Exception):
    """A change to a member was refused; the message says why."""


def create_member(*, email: str, role: str = User.Role.MEMBER, password: str | None = None) -> User:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise MemberError(f"'{email}' is not a valid email address.") from exc
    if role not in User.Role.values:
        raise MemberError(f"Unknown role '{role}'.")
    if User.objects.filter(email=email).exists():
        raise MemberError(f"{email} is already a member of this workspace.")
    return User.objects.create_user(email, password, role=role)


def set_password_link(*, user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


def invite_member(*, email: str, role: str, invited_by: User, base_url: str) -> User:
    """Create the account without a password and email a link to choose one."""
    user = create_member(email=email, role=role)
    link = set_password_link(user=user, base_url=base_url)
    tenant = getattr(connection, "tenant", None)
    body = render_to_string(
        "members/invite_email.txt",
        {"user": user, "link": link, "invited_by": invited_by, "workspace": tenant},
    )
    send_mail(
        subject=f"You are invited to {getattr(tenant, 'name', 'TuneAIBot')} on TuneAIBot",
        message=body,
        from_email=None,
        recipient_list=[user.email],
    )
    return user


def set_member_active(*, user: User, active: bool, actor: User) -> User:
    if user.pk == actor.pk and not active:
        raise MemberError("You cannot deactivate your own account.")
    if not active and user.role == User.Role.ADMIN:
        other_admins = User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)
        if not other_admins.exists():
            raise MemberError("A workspace needs at least one active tenant admin.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
