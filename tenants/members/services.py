"""People in a client's workspace: creating, inviting and deactivating them.

Every function runs in the current schema (the client's, set by the request or
by schema_context), so users of one client never see another's.
"""

from __future__ import annotations

import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core import stream_revocation
from core.tasks import enqueue_on_commit
from tenants.db import current_schema, tenant_connection
from tenants.members.models import User
from tenants.services import client_host, site_url

logger = logging.getLogger(__name__)


class MemberError(Exception):
    """A change to a member was refused; the message says why."""


def create_member(*, email: str, role: str = User.Role.MEMBER, password: str | None = None) -> User:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise MemberError(
            _("“%(email)s” is not a valid email address.") % {"email": email}) from exc
    if role not in User.Role.values:
        raise MemberError(_("Unknown role “%(role)s”.") % {"role": role})
    if User.objects.filter(email=email).exists():
        raise MemberError(_("%(email)s is already a member of this workspace.") % {"email": email})
    return User.objects.create_user(email, password, role=role)


def workspace_address() -> str:
    """The configured address of the current client's site, without a trailing
    slash: its primary domain with SITE_SCHEME and SITE_PORT. Links in e-mails
    use it, never a request's Host header (which a sender controls, port and all)."""
    return site_url(client_host(tenant_connection().tenant)).rstrip("/")


def set_password_link(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return workspace_address() + path


def invite_member(*, email: str, role: str, invited_by: User) -> User:
    """Create the account without a password; a worker emails a link to choose one."""
    with transaction.atomic():
        user = create_member(email=email, role=role)
        enqueue_on_commit("tenants.tasks.send_invitation_email", user_id=user.pk,
                          invited_by_id=invited_by.pk)
    return user


def send_invitation(*, user_id: int, invited_by_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return  # deleted, deactivated or already joined: nothing to send (safe to run twice)
    invited_by = User.objects.filter(pk=invited_by_id).first()
    tenant = getattr(connection, "tenant", None)
    # The invitee has chosen no language yet: the workspace's, else the inviter's.
    language = (getattr(tenant, "default_language", "")
                or getattr(invited_by, "language", "") or settings.LANGUAGE_CODE)
    with translation.override(language):
        body = render_to_string(
            "members/invite_email.txt",
            {
                "user": user,
                "link": set_password_link(user=user),
                "invited_by": invited_by,
                "workspace": tenant,
            },
        )
        subject = _("You are invited to %(workspace)s on TuneAIBot") % {
            "workspace": getattr(tenant, "name", "TuneAIBot")}
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email])


def request_password_reset(*, email: str) -> None:
    """Queue a reset link for the account with this e-mail, if there is one.

    The e-mail is written and sent by a worker, so the answer to the person
    asking takes the same time whether the account exists or not.
    """
    email = User.objects.normalize_login(email)
    for user in User.objects.filter(email=email, is_active=True):
        if user.has_usable_password():  # invited, not joined yet: the invitation is the way in
            enqueue_on_commit("tenants.tasks.send_password_reset_email", user_id=user.pk)


def send_password_reset(*, user_id: int) -> None:
    from tenants.members.selectors import language_for

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return  # deleted or deactivated meanwhile: nothing to send
    tenant = getattr(connection, "tenant", None)
    with translation.override(language_for(user=user, tenant=tenant)):
        body = render_to_string(
            "registration/password_reset_email.html",
            {"email": user.email, "link": set_password_link(user=user), "workspace": tenant,
             "address": workspace_address()},
        )
        subject = _("Choose a new password for %(workspace)s on TuneAIBot") % {
            "workspace": getattr(tenant, "name", "TuneAIBot")}
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email])


def unlock_sign_in(*, email: str | None = None, ip_address: str | None = None) -> int:
    """Lift a sign-in pause in the current schema: for an account (its e-mail),
    a network address, or both given as one record. Returns the records removed."""
    if not email and not ip_address:
        raise MemberError(_("Say which account or network address to unlock."))
    email = User.objects.normalize_login(email) or None
    removed = axes_reset(username=email, ip=ip_address or None)
    logger.info("Sign-in unlocked in schema %s: %s (%d records removed)", current_schema(),
                "account and address" if email and ip_address else
                "account" if email else "address", removed)
    return removed


def unlock_member(*, user: User, actor: User) -> int:
    """A tenant admin lifts the pause on a member's sign-in (failed attempts forgotten)."""
    removed = unlock_sign_in(email=user.email)
    logger.info("User %s unlocked the sign-in of user %s", actor.pk, user.pk)
    return removed


def set_member_active(*, user: User, active: bool, actor: User) -> User:
    if user.pk == actor.pk and not active:
        raise MemberError(_("You cannot deactivate your own account."))
    if not active and user.role == User.Role.ADMIN:
        other_admins = User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)
        if not other_admins.exists():
            raise MemberError(_("A workspace needs at least one active tenant admin."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        end_sessions(user=user)
    return user


# --- Sessions -------------------------------------------------------------------------

def end_sessions(*, user: User, keep_session_key: str | None = None) -> int:
    """Sign this member out everywhere in this schema (but `keep_session_key`,
    the browser that just changed the password): the sessions are deleted and
    their answer-stream tokens revoked at once."""
    ended = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now())
             if s.get_decoded().get("_auth_user_id") == str(user.pk)
             and s.pk != keep_session_key]
    Session.objects.filter(pk__in=ended).delete()
    stream_revocation.revoke(ended)
    return len(ended)


def end_sessions_where(*, keep) -> int:
    """End every live session whose data `keep(data)` refuses (see end_sessions)."""
    ended = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now())
             if not keep(s.get_decoded())]
    Session.objects.filter(pk__in=ended).delete()
    stream_revocation.revoke(ended)
    return len(ended)


def set_language(*, user: User, language: str) -> None:
    """Save the person's interface language ('' = follow the workspace)."""
    if language and language not in dict(settings.LANGUAGES):
        raise MemberError(_("Choose one of the languages offered."))
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def set_workspace_language(*, client, language: str) -> None:
    """The workspace's default language for members who chose none ('' = browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise MemberError(_("Choose one of the languages offered."))
    type(client).objects.filter(pk=client.pk).update(default_language=language)
    client.default_language = language
