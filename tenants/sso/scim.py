"""SCIM 2.0 Users for a client's directory (Entra ID, Okta, Google...).

Parsing, validation, PATCH and filters are scim2-models' (RFC 7643/7644); this
module maps its User to our member and back. All of it runs in the client's
schema chosen by the request's host, and only with that client's bearer token.

The directory reaches only the members it created or that are linked to it
(an ExternalIdentity: created here, or signed in through the provider), and
never the workspace's local break-glass admins (the configured break-glass
admin, and any tenant admin who can sign in with a password): to SCIM every
other member does not exist (404), so whoever holds the directory cannot take
over a local account by rewriting its e-mail. A changed e-mail ends that
member's sessions.
"""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from pydantic import ValidationError as PydanticError
from scim2_models import (
    Context,
    Email,
    Error,
    ListResponse,
    Meta,
    Name,
    PatchOp,
    SCIMException,
    ScimFilter,
)
from scim2_models import User as ScimUser

from core import ids
from tenants.members.models import User
from tenants.sso import selectors, services
from tenants.sso.models import ExternalIdentity

MAX_RESULTS = 200
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
EXTERNAL_ID_MAX_LENGTH = ExternalIdentity._meta.get_field("scim_external_id").max_length


class ScimProblem(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.error = Error(status=status, scim_type=scim_type, detail=detail)


def error_from(exc: Exception) -> Error:
    if isinstance(exc, ScimProblem):
        return exc.error
    if isinstance(exc, SCIMException):
        return exc.to_error()
    if isinstance(exc, PydanticError):
        return Error.from_validation_error(exc.errors()[0])
    raise exc


_LOOK_UP = object()


def to_scim(user: User, *, base_url: str, identity=_LOOK_UP) -> ScimUser:
    if identity is _LOOK_UP:
        identity = ExternalIdentity.objects.filter(user=user).first()
    return ScimUser(
        id=str(user.pk),
        external_id=(identity.scim_external_id or None) if identity else None,
        user_name=user.email,
        name=Name(given_name=user.first_name or None, family_name=user.last_name or None)
        if (user.first_name or user.last_name) else None,
        emails=[Email(value=user.email, primary=True, type="work")],
        active=user.is_active,
        meta=Meta(resource_type="User", created=user.date_joined,
                  location=f"{base_url}Users/{user.pk}"),
    )


def _email_of(resource: ScimUser) -> str:
    email = (resource.user_name or "").strip().lower()
    if "@" not in email:
        primary = [e for e in (resource.emails or []) if e.primary] or list(resource.emails or [])
        email = (primary[0].value or "").strip().lower() if primary else ""
    if len(email) > EMAIL_MAX_LENGTH:
        raise ScimProblem(400, f"userName (or a primary email) must be at most "
                               f"{EMAIL_MAX_LENGTH} characters.", "invalidValue")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ScimProblem(400, "userName (or a primary email) must be an email address.",
                          "invalidValue") from exc
    domains = selectors.get_settings().domains
    if domains and email.rsplit("@", 1)[1] not in domains:
        raise ScimProblem(400, f"{email} is not in this workspace's allowed domains.",
                          "invalidValue")
    return email


def _apply(user: User, resource: ScimUser) -> None:
    """Write a SCIM resource's values onto a member (and its external id)."""
    email = _email_of(resource)
    if len(resource.external_id or "") > EXTERNAL_ID_MAX_LENGTH:
        raise ScimProblem(400, f"externalId must be at most {EXTERNAL_ID_MAX_LENGTH} "
                               "characters.", "invalidValue")
    if User.objects.filter(email=email).exclude(pk=user.pk).exists():
        raise ScimProblem(409, f"A member with userName {email} already exists.", "uniqueness")
    email_changed = user.pk is not None and user.email != email
    user.email = email
    name = resource.name
    user.first_name = ((name.given_name if name else None) or "")[:150]
    user.last_name = ((name.family_name if name else None) or "")[:150]
    active = True if resource.active is None else bool(resource.active)
    if user.pk is None:
        user.is_active = active
        user.set_unusable_password()
        user.save()
        ExternalIdentity.objects.create(user=user, created_by_scim=True,
                                        scim_external_id=resource.external_id or "")
        return
    user.save()
    ExternalIdentity.objects.update_or_create(
        user=user, defaults={"scim_external_id": resource.external_id or ""})
    if email_changed:
        # Sessions opened under the old address end (and their stream tokens).
        services.end_sessions(user=user)
    if active != user.is_active:
        try:
            services.set_active(user=user, active=active)
        except services.SsoError as exc:
            raise ScimProblem(409, exc.message, "mutability") from exc


def reachable_users():
    """The members the directory may read and change: created by SCIM or
    linked to the directory, never a local break-glass admin."""
    config = selectors.get_settings()
    users = (User.objects.filter(external_identity__isnull=False)
             # A tenant admin who can sign in with a password is a local account.
             .exclude(Q(role=User.Role.ADMIN) & ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)))
    if config.break_glass_user_id:
        users = users.exclude(pk=config.break_glass_user_id)
    return users


def get_user(*, user_id: str) -> User:
    pk = ids.parse_id(user_id, minimum=1)
    user = reachable_users().filter(pk=pk).first() if pk is not None else None
    if user is None:
        raise ScimProblem(404, f"User {user_id[:40]} not found.")
    return user


def search(*, filter_text: str | None, start_index: int, count: int,
           base_url: str) -> ListResponse:
    matcher = ScimFilter[ScimUser](filter_text) if filter_text else None
    # Client directories are small; scim2-models evaluates the filter.
    identities = {i.user_id: i for i in ExternalIdentity.objects.all()}
    users = [to_scim(u, base_url=base_url, identity=identities.get(u.pk))
             for u in reachable_users().order_by("pk")]
    if matcher is not None:
        users = [u for u in users if matcher.match(u)]
    start = max(start_index, 1)
    page = users[start - 1:start - 1 + max(0, min(count, MAX_RESULTS))]
    return ListResponse[ScimUser](total_results=len(users), start_index=start,
                                  items_per_page=len(page), resources=page)


def create(*, payload: dict) -> User:
    resource = ScimUser.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    with transaction.atomic():
        user = User(role=User.Role.MEMBER)
        _apply(user, resource)
    return user


def replace(*, user: User, payload: dict) -> User:
    resource = ScimUser.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    with transaction.atomic():
        _apply(user, resource)
    return user


def patch(*, user: User, payload: dict, base_url: str) -> User:
    operation = PatchOp[ScimUser].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    resource = to_scim(user, base_url=base_url)
    operation.patch(resource)
    with transaction.atomic():
        _apply(user, resource)
    return user


def deactivate(*, user: User) -> None:
    """DELETE keeps the member's data (retention rules apply) but ends access."""
    try:
        services.set_active(user=user, active=False)
    except services.SsoError as exc:
        raise ScimProblem(409, exc.message, "mutability") from exc
