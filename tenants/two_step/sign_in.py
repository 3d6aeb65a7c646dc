"""The second step of a password sign-in, in the request: the half-finished
sign-in kept in the session, the "remember this browser" cookie and the
django-axes count of wrong codes.

The person is *not* signed in until the second step succeeds: the session
holds only which account proved its password, and when (TWO_STEP_PENDING_SECONDS).
"""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django_otp import login as otp_login

from tenants.members import throttling
from tenants.members.models import User
from tenants.two_step import services

PENDING_KEY = "two_step_pending"
CHALLENGE_KEY = "two_step_passkey_challenge"
TOTP_KEY = "two_step_new_totp"
CODES_KEY = "two_step_fresh_codes"
REMEMBER_COOKIE = "two_step_remember"


def client_of(request: HttpRequest):
    tenant = getattr(request, "tenant", None) or getattr(connection, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        return None
    return tenant


def login_url(request: HttpRequest) -> str:
    return reverse("admin:login") if client_of(request) is None else reverse("login")


def begin(request: HttpRequest, *, user: User, next_url: str) -> str | None:
    """After a right password: where the person goes next (None: sign in now)."""
    step = services.second_step(user=user, client=client_of(request))
    if step == "verify" and services.is_remembered(
            user=user, token=request.COOKIES.get(REMEMBER_COOKIE)):
        step = None
    if step is None:
        return None
    request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend,
                                    "at": time.time(), "next": next_url}
    return reverse("two_step:verify" if step == "verify" else "two_step:setup")


def pending_user(request: HttpRequest) -> User | None:
    """The account whose password was just proven, while its second step is open."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > settings.TWO_STEP_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return User.objects.filter(pk=pending.get("user"), is_active=True).first()


def subject(request: HttpRequest) -> User | None:
    """Whose factors a setup page manages: the signed-in person, else the pending
    one, but only while they have no factor yet (setting up the first one is
    their second step; someone with a factor must use it, not add another)."""
    if request.user.is_authenticated:
        return request.user
    user = pending_user(request)
    if user is None or services.has_factor(user=user):
        return None
    return user


def finish(request: HttpRequest, *, user: User, device=None) -> str:
    """Sign the person in (a new session key) and return where they were going."""
    pending = request.session.pop(PENDING_KEY, {}) or {}
    login(request, user, backend=pending.get("backend") or settings.AUTHENTICATION_BACKENDS[-1])
    if device is not None:
        otp_login(request, device)
    return pending.get("next") or (
        reverse("admin:index") if client_of(request) is None
        else resolve_url(settings.LOGIN_REDIRECT_URL))


def remember(request: HttpRequest, response: HttpResponse, *, user: User) -> None:
    token, max_age = services.remember_browser(user=user)
    response.set_cookie(REMEMBER_COOKIE, token, max_age=max_age, secure=settings.HTTPS,
                        httponly=True, samesite="Lax")


# --- Throttling: wrong codes count as failed sign-ins (django-axes) ----------------

def _credentials(user: User) -> dict:
    return {"username": user.email}


def locked_out(request: HttpRequest, *, user: User) -> HttpResponse | None:
    """Axes' lockout page when this account or address is paused, else None."""
    credentials = _credentials(user)
    if AxesProxyHandler.is_allowed(request, credentials):
        return None
    return throttling.lockout_response(request, credentials=credentials)


def count_failure(request: HttpRequest, *, user: User) -> None:
    """A wrong code is a failed sign-in for axes (per account and per address)."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
