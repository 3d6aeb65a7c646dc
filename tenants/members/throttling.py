"""Sign-in throttling (django-axes) and password reset limits (django-ratelimit).

Settings name the callables here (AXES_HANDLER, AXES_USERNAME_CALLABLE,
AXES_LOCKOUT_CALLABLE). Axes keeps its records in the schema of the site being
signed in to, so every client (and the platform) counts on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

from tenants.members.models import User


def attempted_email(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a sign-in is for, as stored: trimmed and lower-case, so
    'Ann@X.com' and ' ann@x.com' count as one account."""
    if credentials:
        value = credentials.get("username") or credentials.get(User.USERNAME_FIELD)
    else:
        value = getattr(request, "data", request.POST).get("username")
    return User.objects.normalize_login(value if isinstance(value, str) else None) or None


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def _last_failure(attempts: QuerySet) -> datetime | None:
    return attempts.aggregate(last=Max("attempt_time"))["last"]


class AccountAndAddressHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per network address of its own.

    AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] makes axes count the
    failures of an account (from any address) and of an address (for any
    account), and compare the larger with one limit. An office behind one
    address needs a higher limit than one account does, so the address count
    is scaled: it reaches AXES_FAILURE_LIMIT after LOGIN_FAILURES_PER_ADDRESS.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_account, per_address = self.get_user_attempts(request, credentials)
        scaled_address = (
            _failures(per_address) * settings.AXES_FAILURE_LIMIT
            // settings.LOGIN_FAILURES_PER_ADDRESS
        )
        return max(_failures(per_account), scaled_address)


@dataclass(frozen=True)
class Lockout:
    account: bool  # this account is paused (else: this network address is)
    seconds_left: int

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil(self.seconds_left / 60))


def current_lockout(request: HttpRequest, credentials: dict | None) -> Lockout:
    """Which pause applies to this sign-in and how long it still lasts."""
    per_account, per_address = AccountAndAddressHandler().get_user_attempts(request, credentials)
    now = timezone.now()
    ends: list[tuple[datetime, bool]] = []
    if _failures(per_account) >= settings.AXES_FAILURE_LIMIT:
        ends.append((_last_failure(per_account) + settings.AXES_COOLOFF_TIME, True))
    if _failures(per_address) >= settings.LOGIN_FAILURES_PER_ADDRESS:
        ends.append((_last_failure(per_address) + settings.AXES_COOLOFF_TIME, False))
    if not ends:  # unlocked meanwhile: a full pause is the safe thing to announce
        return Lockout(account=True, seconds_left=int(settings.AXES_COOLOFF_TIME.total_seconds()))
    end, account = max(ends)
    return Lockout(account=account, seconds_left=max(0, int((end - now).total_seconds())))


def lockout_response(request: HttpRequest, original_response=None,
                     credentials: dict | None = None) -> HttpResponse:
    """The page a locked-out sign-in gets (429), saying what happened and for how long."""
    if not isinstance(credentials, dict):  # axes' async middleware passes it second
        credentials = getattr(request, "axes_credentials", None)
    lockout = current_lockout(request, credentials)
    minutes = lockout.minutes_left
    if lockout.account:
        message = ngettext(
            "Too many failed sign-in attempts for this account. Signing in to it is paused "
            "for %(minutes)d more minute.",
            "Too many failed sign-in attempts for this account. Signing in to it is paused "
            "for %(minutes)d more minutes.",
            minutes,
        ) % {"minutes": minutes}
    else:
        message = ngettext(
            "Too many failed sign-in attempts from your network address. Signing in from it "
            "is paused for %(minutes)d more minute.",
            "Too many failed sign-in attempts from your network address. Signing in from it "
            "is paused for %(minutes)d more minutes.",
            minutes,
        ) % {"minutes": minutes}
    response = render(request, "registration/locked_out.html", {
        "message": message, "minutes": minutes, "account_locked": lockout.account,
    }, status=429)
    response["Retry-After"] = str(max(1, lockout.seconds_left))
    return response


# --- Password reset requests ------------------------------------------------------

def _email_key(group: str, request: HttpRequest) -> str:
    return User.objects.normalize_login(request.POST.get("email"))


def password_reset_wait(request: HttpRequest) -> int | None:
    """Count this reset request; None when it may go ahead, else the seconds to wait.

    Limited per network address and per e-mail asked for. Both count every
    request, whether an account has that e-mail or not, so being limited tells
    nothing about which accounts exist. Counters live in the cache, whose keys
    carry the client's schema.
    """
    limits = [("password-reset-address", "ip", settings.PASSWORD_RESET_RATE_PER_ADDRESS)]
    if _email_key("", request):
        limits.append(("password-reset-email", _email_key, settings.PASSWORD_RESET_RATE_PER_EMAIL))
    waits = []
    for group, key, rate in limits:
        # A cache (Redis) failure raises: the caller answers 503, never sends unlimited.
        usage = get_usage(request, group=group, key=key, rate=rate, method="POST",
                          increment=True)
        if usage and usage["should_limit"]:
            waits.append(max(1, usage["time_left"]))
    return max(waits) if waits else None
