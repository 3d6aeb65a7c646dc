"""Two-step sign-in: who must give a second factor, enrolling and checking
factors, recovery codes, remembered browsers, resets.

Authenticator apps (TOTP) and recovery codes are django-otp devices; passkeys
are checked by py_webauthn (tenants.two_step.passkeys). Every function runs in
the current schema: a client's people there, platform staff in the public one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.members.models import User
from tenants.models import Client
from tenants.two_step import passkeys
from tenants.two_step.models import Passkey, RememberedBrowser, SecondFactorEvent

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
Action = SecondFactorEvent.Action


class TwoStepError(Exception):
    """A change to a second factor was refused; the message says why."""


# --- Who is asked ------------------------------------------------------------------

def is_required(*, user: User, client: Client | None) -> bool:
    """Must this person give a second factor when signing in with a password?

    On a client's site its policy decides (tenant admins by default); on the
    platform site, staff must whenever the platform is served over HTTPS."""
    if client is None or client.schema_name == "public":
        return bool(user.is_staff and settings.TWO_STEP_REQUIRED_FOR_STAFF)
    if client.second_factor == Client.SecondFactor.EVERYONE:
        return True
    if client.second_factor == Client.SecondFactor.ADMINS:
        return user.role == User.Role.ADMIN
    return False


def has_factor(*, user: User) -> bool:
    return (TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            or Passkey.objects.filter(user=user).exists())


def second_step(*, user: User, client: Client | None) -> str | None:
    """What a password sign-in still needs: "verify" (the person has a factor),
    "enrol" (they must set one up first) or None (nothing: sign in now)."""
    if has_factor(user=user):
        return "verify"
    if is_required(user=user, client=client):
        return "enrol"
    return None


def _record(action: str, *, actor: str, subject: User | None = None, detail: str = "") -> None:
    SecondFactorEvent.objects.create(action=action, actor=actor,
                                     subject=subject.email if subject else "", detail=detail)
    logger.info("Two-step sign-in: %s by %s for %s", action, actor,
                subject.pk if subject else "-")


# --- Checking a code -----------------------------------------------------------------

def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())[:32]


def verify_code(*, user: User, code: str) -> str | None:
    """Check a code from the authenticator app or a recovery code (used up).
    Returns "totp" or "recovery" when it is right, else None."""
    code = normalize_code(code)
    if not code:
        return None
    if code.isdigit():
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(code):  # django-otp: window, replay and throttling
                return "totp"
        return None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):  # deletes the token it matched
            # The detail is a record, not a sentence: the codes still unused.
            _record(Action.RECOVERY_CODE_USED, actor=user.email, subject=user,
                    detail=f"{device.token_set.count()}/{RECOVERY_CODE_COUNT}")
            return "recovery"
    return None


# --- Authenticator apps ---------------------------------------------------------------

def start_totp(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator-app secret (any earlier unconfirmed one goes)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


def pending_totp(*, user: User, device_id: int | None) -> TOTPDevice | None:
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()


def confirm_totp(*, user: User, device: TOTPDevice, code: str) -> bool:
    """The person typed a code from their app: the secret is theirs from now on."""
    code = normalize_code(code)
    if not (code.isdigit() and device.verify_token(code)):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _record(Action.TOTP_ADDED, actor=user.email, subject=user)
    return True


def _base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_uri(*, device: TOTPDevice, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{device.user.email}")
    query = urlencode({"secret": _base32_secret(device), "issuer": issuer, "algorithm": "SHA1",
                       "digits": device.digits, "period": device.step})
    return f"otpauth://totp/{label}?{query}"


def totp_secret(*, device: TOTPDevice) -> str:
    """The secret in base32, in groups of four (typed by hand when the QR code cannot be read)."""
    secret = _base32_secret(device)
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- Passkeys --------------------------------------------------------------------------

def add_passkey(*, user: User, name: str, credential: str, challenge: bytes, rp_id: str,
                origin: str) -> Passkey:
    try:
        verified = passkeys.verify_registration(credential=credential, challenge=challenge,
                                                rp_id=rp_id, origin=origin)
    except passkeys.PasskeyError as exc:
        raise TwoStepError(str(exc)) from exc
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise TwoStepError(_("This passkey is already registered."))
    with transaction.atomic():
        passkey = Passkey.objects.create(
            user=user, name=(name or "").strip()[:60] or _("Passkey"),
            credential_id=verified.credential_id, public_key=verified.public_key,
            sign_count=verified.sign_count, transports=verified.transports)
        _record(Action.PASSKEY_ADDED, actor=user.email, subject=user, detail=passkey.name)
    return passkey


def check_passkey(*, user: User, credential: str, challenge: bytes, rp_id: str,
                  origin: str) -> Passkey | None:
    """A passkey assertion for this person's sign-in: their passkey, right signature."""
    credential_id = passkeys.credential_id_of(credential)
    passkey = (Passkey.objects.filter(user=user, credential_id=credential_id).first()
               if credential_id else None)
    if passkey is None:
        return None
    try:
        sign_count = passkeys.verify_assertion(
            credential=credential, challenge=challenge, rp_id=rp_id, origin=origin,
            public_key=bytes(passkey.public_key), sign_count=passkey.sign_count)
    except passkeys.PasskeyError:
        return None
    Passkey.objects.filter(pk=passkey.pk).update(sign_count=sign_count, last_used=timezone.now())
    return passkey


def user_passkey_ids(*, user: User) -> list[bytes]:
    return [bytes(value) for value in
            Passkey.objects.filter(user=user).values_list("credential_id", flat=True)]


# --- Recovery codes -----------------------------------------------------------------

def make_recovery_codes(*, user: User) -> list[str]:
    """New single-use recovery codes (the old ones stop working). Shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
        codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        _record(Action.RECOVERY_CODES_MADE, actor=user.email, subject=user)
    return ["-".join(code[i:i + 4] for i in range(0, len(code), 4)) for code in codes]


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Removing and resetting ------------------------------------------------------------

def remove_factor(*, user: User, kind: str, factor_id: int, client: Client | None) -> None:
    """The person removes one of their own factors; the last one cannot go while
    their workspace requires a second step of them (a reset by an admin can)."""
    model = {"totp": TOTPDevice, "passkey": Passkey}.get(kind)
    factor = model.objects.filter(user=user, pk=factor_id).first() if model else None
    if factor is None:
        raise TwoStepError(_("That second factor no longer exists."))
    with transaction.atomic():
        factor.delete()
        if is_required(user=user, client=client) and not has_factor(user=user):
            raise TwoStepError(_(
                "Your workspace requires two-step sign-in: add another authenticator app or "
                "passkey before removing your last one."))
        if not has_factor(user=user):
            StaticDevice.objects.filter(user=user).delete()  # codes of nothing
            RememberedBrowser.objects.filter(user=user).delete()
        _record(Action.FACTOR_REMOVED, actor=user.email, subject=user, detail=str(factor))


def reset(*, user: User, actor: str) -> None:
    """Forget every second factor and remembered browser of `user` (recorded).
    At their next sign-in they are asked to set one up if it is required."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        Passkey.objects.filter(user=user).delete()
        RememberedBrowser.objects.filter(user=user).delete()
        _record(Action.RESET, actor=actor, subject=user)


def reset_by_tenant_admin(*, user: User, actor: User) -> None:
    if not actor.is_tenant_admin:
        raise TwoStepError(_("Only tenant admins can reset a member's two-step sign-in."))
    reset(user=user, actor=actor.email)


def reset_by_staff(*, user: User, staff: User) -> None:
    """Platform staff reset the second factor of a client's tenant admin (called
    inside that client's schema)."""
    if not staff.is_staff:
        raise TwoStepError(_("Only platform staff can do this."))
    if user.role != User.Role.ADMIN:
        raise TwoStepError(_("Platform staff reset only tenant admins; a tenant admin of the "
                             "workspace resets its members."))
    reset(user=user, actor=f"staff:{staff.email}")  # a record, in no language


# --- Policy -------------------------------------------------------------------------

def set_policy(*, client: Client, policy: str, actor: User) -> None:
    if policy not in Client.SecondFactor.values:
        raise TwoStepError(_("Choose one of the options offered."))
    Client.objects.filter(pk=client.pk).update(second_factor=policy)
    client.second_factor = policy
    _record(Action.POLICY_CHANGED, actor=actor.email,
            detail=str(Client.SecondFactor(policy).label))


# --- Remembered browsers ------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_browser(*, user: User) -> tuple[str, int]:
    """A token for the cookie and its lifetime in seconds (TWO_STEP_REMEMBER_DAYS)."""
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(days=settings.TWO_STEP_REMEMBER_DAYS)
    RememberedBrowser.objects.filter(user=user, expires__lt=timezone.now()).delete()
    RememberedBrowser.objects.create(user=user, token_hash=_hash(token),
                                     expires=timezone.now() + lifetime)
    return token, int(lifetime.total_seconds())


def is_remembered(*, user: User, token: str | None) -> bool:
    if not token or len(token) > 100:
        return False
    return RememberedBrowser.objects.filter(user=user, token_hash=_hash(token),
                                            expires__gt=timezone.now()).exists()
