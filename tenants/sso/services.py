"""Writes for single sign-on: settings, the sign-in flow, just-in-time accounts,
the SCIM token and deactivation. Everything runs in the current client schema.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import secrets as secret_box
from tenants.db import current_schema
from tenants.members import services as member_services
from tenants.members.models import User
from tenants.sso import oidc, selectors
from tenants.sso.models import ExternalIdentity, SsoSettings

logger = logging.getLogger(__name__)

FLOWS_KEY = "sso_flows"
SSO_SESSION_KEY = "sso_signed_in"  # set on sessions opened through the provider
MAX_OPEN_FLOWS = 5


class SsoError(Exception):
    """A sign-in that cannot go on: `message` is for the person, `detail` for the admin."""

    def __init__(self, message: str, *, detail: str = "", status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.status = status


# --- Settings -----------------------------------------------------------------------

def save_settings(*, values: dict, client_secret: str = "") -> SsoSettings:
    """Store the tenant admin's settings; a new client secret is encrypted at rest."""
    config = selectors.get_settings()
    for field, value in values.items():
        setattr(config, field, value)
    if client_secret:
        config.client_secret_encrypted = secret_box.encrypt(client_secret)
        config.client_secret_last4 = client_secret[-4:]
    was_sso_only = SsoSettings.objects.filter(pk=config.pk, sso_only=True).exists()
    config.save()
    if config.sso_only and config.is_ready and not was_sso_only:
        end_password_sessions(except_user_id=config.break_glass_user_id)
    return config


def check_provider(*, issuer: str) -> dict:
    """Fetch and check the provider's discovery document now (no cache)."""
    return oidc.discover(issuer, use_cache=False)


def record_error(*, detail: str) -> None:
    SsoSettings.objects.filter(pk=selectors.get_settings().pk).update(
        last_error=detail[:2000], last_error_at=timezone.now())
    logger.warning("SSO sign-in failed in %s: %s", current_schema(), detail)


def rotate_scim_token() -> str:
    """A new SCIM bearer token (the old one stops working); returned once, never stored."""
    config = selectors.get_settings()
    token = f"scim_{secrets.token_urlsafe(32)}"
    config.scim_token_sha256 = hashlib.sha256(token.encode()).hexdigest()
    config.scim_token_last4 = token[-4:]
    config.scim_token_created_at = timezone.now()
    config.save()
    return token


def revoke_scim_token() -> None:
    config = selectors.get_settings()
    config.scim_token_sha256 = config.scim_token_last4 = ""
    config.scim_token_created_at = None
    config.save()


# --- The sign-in flow ------------------------------------------------------------------

def _provider(config: SsoSettings) -> oidc.Provider:
    return oidc.Provider(
        issuer=config.issuer, client_id=config.client_id,
        client_secret=secret_box.decrypt(config.client_secret_encrypted),
        scopes=config.scopes or "openid email profile",
    )


def _misconfigured(detail: str) -> SsoError:
    record_error(detail=detail)
    return SsoError(
        _("Signing in with your company account is not working right now because the "
          "sign-in service is not set up correctly. Your administrator can see the details "
          "on the single sign-on settings page; please try again later or ask them."),
        detail=detail, status=502,
    )


def _ready_settings() -> SsoSettings:
    config = selectors.get_settings()
    if not config.is_ready:
        raise SsoError(_("Signing in with a company account is not turned on for this "
                         "workspace. Sign in with your email and password instead."),
                       status=404)
    return config


def start_sign_in(*, session, redirect_uri: str, next_url: str) -> str:
    """Remember state, nonce and PKCE verifier in the session; return the provider URL."""
    config = _ready_settings()
    try:
        request = oidc.authorization_request(_provider(config), redirect_uri=redirect_uri)
    except oidc.ProviderError as exc:
        raise _misconfigured(exc.detail) from exc
    flows = dict(session.get(FLOWS_KEY) or {})
    # A few sign-ins may be open at once (several tabs); the oldest ones go.
    for stale in sorted(flows, key=lambda s: flows[s]["at"])[:-(MAX_OPEN_FLOWS - 1) or None]:
        flows.pop(stale)
    flows[request.state] = {"nonce": request.nonce, "verifier": request.code_verifier,
                            "next": next_url, "at": int(time.time()),
                            "issuer": config.issuer, "client_id": config.client_id}
    session[FLOWS_KEY] = flows
    return request.url


@dataclass(frozen=True)
class SignedIn:
    user: User
    next_url: str
    created: bool


def finish_sign_in(*, session, params: dict, redirect_uri: str) -> SignedIn:
    """Check the provider's answer, verify the ID token and find or create the member."""
    config = _ready_settings()
    state = params.get("state") or ""
    flows = dict(session.get(FLOWS_KEY) or {})
    flow = flows.pop(state, None)
    session[FLOWS_KEY] = flows  # a state is used once, whatever happens next
    if flow is None:
        raise SsoError(_("This sign-in link has already been used or was not started from "
                         "this browser. Please start again from the sign-in page."), status=400)
    if time.time() - flow["at"] > django_settings.SSO_LOGIN_TIMEOUT_SECONDS:
        raise SsoError(_("This sign-in took too long and has expired. Please start again "
                         "from the sign-in page."), status=400)
    if (flow["issuer"], flow["client_id"]) != (config.issuer, config.client_id):
        raise SsoError(_("The sign-in settings changed while you were signing in. Please "
                         "start again from the sign-in page."), status=400)
    if params.get("error"):
        detail = f"The provider answered {params.get('error')!r}: " \
                 f"{params.get('error_description', '')}".strip()
        if params.get("error") == "access_denied":
            record_error(detail=detail)
            raise SsoError(_("Your company's sign-in service did not let you in. If you "
                             "should have access, ask your administrator."), detail=detail)
        raise _misconfigured(detail)
    # RFC 9207: when the provider names itself, it must be the one we asked.
    if params.get("iss") and params["iss"] != config.issuer:
        raise SsoError(_("This sign-in answer came from another sign-in service and was "
                         "refused. Please start again from the sign-in page."),
                       detail=f"Authorization response from issuer {params['iss']!r}.",
                       status=400)
    if not params.get("code"):
        raise SsoError(_("The sign-in service sent no sign-in code. Please start again from "
                         "the sign-in page."), status=400)
    provider = _provider(config)
    try:
        tokens = oidc.redeem_code(provider, code=params["code"], code_verifier=flow["verifier"],
                                  redirect_uri=redirect_uri)
    except oidc.ProviderError as exc:
        if exc.error == "invalid_grant":
            # A code that is not ours to redeem (used, expired, or issued to another
            # client): not a misconfiguration.
            record_error(detail=exc.detail)
            raise SsoError(_("Your sign-in could not be verified and was refused. Please "
                             "start again from the sign-in page."),
                           detail=exc.detail, status=400) from exc
        raise _misconfigured(exc.detail) from exc
    try:
        claims = oidc.verify_id_token(provider, id_token=tokens["id_token"],
                                      nonce=flow["nonce"])
    except oidc.TokenRejected as exc:
        record_error(detail=exc.detail)
        raise SsoError(_("Your sign-in could not be verified and was refused. Please start "
                         "again from the sign-in page; if it keeps happening, tell your "
                         "administrator."), detail=exc.detail, status=400) from exc
    except oidc.ProviderError as exc:
        raise _misconfigured(exc.detail) from exc
    if "email" not in claims or config.groups_claim not in claims:
        extra = oidc.userinfo(provider, access_token=tokens.get("access_token", ""))
        if extra.get("sub") == claims["sub"]:
            claims = {**extra, **claims}
    user, created = sign_in_from_claims(config=config, claims=claims)
    return SignedIn(user=user, next_url=flow.get("next") or "", created=created)


# --- Just-in-time accounts -------------------------------------------------------------

def _groups(claims: dict, claim: str) -> list[str]:
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _names(claims: dict) -> tuple[str, str]:
    first, last = claims.get("given_name") or "", claims.get("family_name") or ""
    if not (first or last) and claims.get("name"):
        first, _sep, last = str(claims["name"]).partition(" ")
    return str(first)[:150], str(last)[:150]


def sign_in_from_claims(*, config: SsoSettings, claims: dict) -> tuple[User, bool]:
    """Find or create the member for verified claims; update name and role."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise _misconfigured("The provider sent no email claim: add the 'email' scope "
                             "(Entra ID: add the optional claim 'email').")
    if claims.get("email_verified") is False:
        raise SsoError(_("Your company account's email address is not verified, so it "
                         "cannot be used to sign in here. Ask your administrator."),
                       detail=f"{email}: email_verified is false.")
    domain = email.rsplit("@", 1)[1]
    if domain not in config.domains:
        detail = f"{email}: the domain {domain} is not in the allowed domains."
        record_error(detail=detail)
        raise SsoError(
            _("Your account %(email)s cannot sign in to this workspace: only addresses at "
              "%(domains)s are allowed. If you should have access, ask your administrator.")
            % {"email": email, "domains": ", ".join(config.domains)}, detail=detail)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user, created = _find_or_create(config=config, claims=claims, email=email)
        except IntegrityError:
            # Two first sign-ins at once: the other one created the account.
            user, created = _find_or_create(config=config, claims=claims, email=email)
        if not user.is_active:
            raise SsoError(_("Your account in this workspace has been deactivated. If this "
                             "is a mistake, ask your administrator."),
                           detail=f"{email}: the account is deactivated.")
        first, last = _names(claims)
        user.first_name, user.last_name = first or user.first_name, last or user.last_name
        if config.admin_group and user.pk != config.break_glass_user_id:
            is_admin = config.admin_group in _groups(claims, config.groups_claim)
            if is_admin:
                user.role = User.Role.ADMIN
            elif user.role == User.Role.ADMIN and not _other_admins(user).exists():
                # Never leave the workspace without a tenant admin.
                record_error(detail=f"{email} is not in the group {config.admin_group!r} "
                                    "but stays tenant admin: there is no other one.")
            else:
                user.role = User.Role.MEMBER
        user.save()
        ExternalIdentity.objects.filter(user=user).update(last_sso_login_at=timezone.now())
    return user, created


def _other_admins(user: User):
    return User.objects.filter(role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)


def _find_or_create(*, config: SsoSettings, claims: dict, email: str) -> tuple[User, bool]:
    identity = (ExternalIdentity.objects.select_related("user")
                .filter(issuer=config.issuer, subject=claims["sub"]).first())
    if identity is not None:
        user = identity.user
        if user.email != email and not User.objects.filter(email=email).exists():
            user.email = email  # renamed at the provider
        return user, False
    existing = User.objects.filter(email=email).first()
    created = existing is None
    user = existing or User.objects.create_user(email, None, role=User.Role.MEMBER)
    ExternalIdentity.objects.update_or_create(
        user=user, defaults={"issuer": config.issuer, "subject": claims["sub"]})
    return user, created


# --- Deactivation -------------------------------------------------------------------------

def end_sessions(*, user: User) -> int:
    """Delete every session of this member in this schema (stream tokens revoked)."""
    return member_services.end_sessions(user=user)


def end_password_sessions(*, except_user_id: int | None) -> int:
    """Sign out everyone who signed in with a password (SSO only was just turned on)."""

    def keep(data: dict) -> bool:
        user_id = data.get("_auth_user_id")
        return not user_id or bool(data.get(SSO_SESSION_KEY)) or user_id == str(except_user_id)

    return member_services.end_sessions_where(keep=keep)


def set_active(*, user: User, active: bool) -> User:
    """The directory (SCIM) turns a member on or off; off ends their sessions."""
    if not active and user.role == User.Role.ADMIN and not _other_admins(user).exists():
        raise SsoError(_("This is the workspace's last active tenant admin; it cannot be "
                         "deactivated."), status=409)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        end_sessions(user=user)
    return user
