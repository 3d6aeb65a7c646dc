"""Pages of the two-step sign-in. Thin: the work is in services (factors,
policy), sign_in (the half-finished sign-in, cookie, axes) and passkeys."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required
from tenants.models import Client
from tenants.two_step import passkeys, selectors, services, sign_in

MAX_JSON_BYTES = 20_000


# --- Sign-in pages ------------------------------------------------------------------

class TwoStepLoginView(auth_views.LoginView):
    """Django's sign-in page; a right password leads to the second step when one is due."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        target = sign_in.begin(self.request, user=form.get_user(),
                               next_url=self.get_success_url())
        if target is None:
            return super().form_valid(form)
        return redirect(target)


class AdminLoginView(TwoStepLoginView):
    """The platform admin's sign-in page, with the same second step for staff."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def get_default_redirect_url(self):
        return reverse("admin:index")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **admin.site.each_context(self.request),
                "title": _("Log in"), "app_path": self.request.get_full_path(),
                "username": self.request.user.get_username()}


def _expired(request):
    messages.error(request, _("Your sign-in was not finished in time. Sign in again."))
    return redirect(sign_in.login_url(request))


@never_cache
def verify(request):
    """Second step: a code from the authenticator app, a recovery code, or a passkey."""
    user = sign_in.pending_user(request)
    if user is None:
        return _expired(request)
    locked = sign_in.locked_out(request, user=user)
    if locked is not None:
        return locked
    if not services.has_factor(user=user):  # reset meanwhile: set one up, or none is due
        if services.is_required(user=user, client=sign_in.client_of(request)):
            return redirect("two_step:setup")
        return redirect(sign_in.finish(request, user=user))
    error = ""
    if request.method == "POST":
        kind = services.verify_code(user=user, code=request.POST.get("code", ""))
        if kind is not None:
            response = redirect(sign_in.finish(request, user=user))
            if request.POST.get("remember") == "1":
                sign_in.remember(request, response, user=user)
            return response
        sign_in.count_failure(request, user=user)
        locked = sign_in.locked_out(request, user=user)
        if locked is not None:
            return locked
        error = _("That code is not right. Type the 6-digit code your authenticator app shows "
                  "now, or one of your recovery codes.")
    return render(request, "two_step/verify.html", {
        **selectors.factors_of(user=user), "error": error,
        "remember_days": settings.TWO_STEP_REMEMBER_DAYS,
    }, status=400 if error else 200)


# --- Passkeys: the browser asks for options, then sends its answer ---------------------

def _rp(request) -> tuple[str, str]:
    """The passkey's relying party: this site's host name (the RP ID) and its origin.
    The host passed ALLOWED_HOSTS and named this client; the browser checks both too."""
    host = request.get_host()
    return urlsplit(f"//{host}").hostname or host, f"{request.scheme}://{host}"


def _user_handle(request, user: User) -> bytes:
    tenant = sign_in.client_of(request)
    return hashlib.sha256(f"{getattr(tenant, 'schema_name', 'public')}:{user.pk}".encode()).digest()


def _keep_challenge(request, challenge: bytes, purpose: str) -> None:
    request.session[sign_in.CHALLENGE_KEY] = {
        "purpose": purpose, "value": base64.b64encode(challenge).decode()}


def _take_challenge(request, purpose: str) -> bytes | None:
    kept = request.session.pop(sign_in.CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    return base64.b64decode(kept["value"])


def _json_body(request) -> dict:
    if len(request.body) > MAX_JSON_BYTES:
        return {}
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@never_cache
@require_POST
def passkey_sign_in_options(request):
    user = sign_in.pending_user(request)
    if user is None:
        return _refused(_("Your sign-in was not finished in time. Sign in again."), 403)
    rp_id, _origin = _rp(request)
    options, challenge = passkeys.authentication_options(
        rp_id=rp_id, allowed=services.user_passkey_ids(user=user))
    _keep_challenge(request, challenge, "sign-in")
    return HttpResponse(options, content_type="application/json")


@never_cache
@require_POST
def passkey_sign_in(request):
    user = sign_in.pending_user(request)
    if user is None:
        return _refused(_("Your sign-in was not finished in time. Sign in again."), 403)
    if sign_in.locked_out(request, user=user) is not None:
        return _refused(_("Too many failed sign-in attempts. Wait a while and try again."), 429)
    body = _json_body(request)
    challenge = _take_challenge(request, "sign-in")
    rp_id, origin = _rp(request)
    passkey = None
    if challenge is not None and isinstance(body.get("credential"), dict):
        passkey = services.check_passkey(user=user, credential=json.dumps(body["credential"]),
                                         challenge=challenge, rp_id=rp_id, origin=origin)
    if passkey is None:
        sign_in.count_failure(request, user=user)
        return _refused(_("The passkey did not check out. Try again, or use a code."))
    response = JsonResponse({"redirect": sign_in.finish(request, user=user)})
    if body.get("remember") is True:
        sign_in.remember(request, response, user=user)
    return response


@never_cache
@require_POST
def passkey_register_options(request):
    user = sign_in.subject(request)
    if user is None:
        return _refused(_("Your sign-in was not finished in time. Sign in again."), 403)
    rp_id, _origin = _rp(request)
    tenant = sign_in.client_of(request)
    options, challenge = passkeys.registration_options(
        rp_id=rp_id, rp_name=getattr(tenant, "name", "TuneAIBot"),
        user_handle=_user_handle(request, user), email=user.email,
        existing=services.user_passkey_ids(user=user))
    _keep_challenge(request, challenge, "register")
    return HttpResponse(options, content_type="application/json")


@never_cache
@require_POST
def passkey_register(request):
    user = sign_in.subject(request)
    if user is None:
        return _refused(_("Your sign-in was not finished in time. Sign in again."), 403)
    body = _json_body(request)
    challenge = _take_challenge(request, "register")
    if challenge is None or not isinstance(body.get("credential"), dict):
        return _refused(_("The passkey could not be registered: the browser's answer did not "
                          "check out. Try again."))
    rp_id, origin = _rp(request)
    try:
        services.add_passkey(user=user, name=str(body.get("name") or ""),
                             credential=json.dumps(body["credential"]), challenge=challenge,
                             rp_id=rp_id, origin=origin)
    except services.TwoStepError as exc:
        return _refused(str(exc))
    return JsonResponse({"redirect": _after_enrol(request, user=user)})


# --- Setting up factors ---------------------------------------------------------------

def _after_enrol(request, *, user: User) -> str:
    """A factor was added: first recovery codes if the person has none, and a
    half-finished sign-in is finished now. Returns the next page."""
    signing_in = not request.user.is_authenticated
    codes = (services.make_recovery_codes(user=user)
             if not services.recovery_codes_left(user=user) else None)
    after = sign_in.finish(request, user=user) if signing_in else ""
    if codes:
        request.session[sign_in.CODES_KEY] = {"codes": codes, "next": after}
        return _url("two_step:codes")
    messages.success(request, _("Your second factor was added."))
    return after or _url("two_step:setup")


def _url(name: str) -> str:
    return reverse(name)


@never_cache
def setup(request):
    user = sign_in.subject(request)
    if user is None:
        return redirect(sign_in.login_url(request))
    tenant = sign_in.client_of(request)
    is_admin = request.user.is_authenticated and tenant is not None and user.is_tenant_admin
    return render(request, "two_step/setup.html", {
        **selectors.factors_of(user=user),
        "signing_in": not request.user.is_authenticated,
        "required": services.is_required(user=user, client=tenant),
        "policy_choices": Client.SecondFactor.choices if is_admin else None,
        "policy": getattr(tenant, "second_factor", ""),
        "events": selectors.recent_events() if is_admin else None,
    })


@never_cache
def totp(request):
    """Add an authenticator app: scan the QR code, type the code it shows."""
    user = sign_in.subject(request)
    if user is None:
        return redirect(sign_in.login_url(request))
    device = services.pending_totp(user=user, device_id=request.session.get(sign_in.TOTP_KEY))
    error = ""
    if request.method == "POST" and device is not None:
        if services.confirm_totp(user=user, device=device, code=request.POST.get("code", "")):
            request.session.pop(sign_in.TOTP_KEY, None)
            return redirect(_after_enrol(request, user=user))
        error = _("That code is not right. Type the 6-digit code your app shows now.")
    if device is None:
        device = services.start_totp(user=user)
        request.session[sign_in.TOTP_KEY] = device.pk
    issuer = getattr(sign_in.client_of(request), "name", None) or settings.OTP_TOTP_ISSUER
    uri = services.totp_uri(device=device, issuer=issuer)
    return render(request, "two_step/totp.html", {
        "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        "secret": services.totp_secret(device=device), "error": error,
        "signing_in": not request.user.is_authenticated,
    }, status=400 if error else 200)


@never_cache
def codes(request):
    """New recovery codes, shown once."""
    if not request.user.is_authenticated:
        return redirect(sign_in.login_url(request))
    fresh = request.session.pop(sign_in.CODES_KEY, None)
    if not isinstance(fresh, dict):
        return redirect("two_step:setup")
    return render(request, "two_step/codes.html", {
        "codes": fresh.get("codes", []), "next": fresh.get("next") or _url("two_step:setup"),
        # Shown once: nothing may cover them (the first-use notice waits for the next page).
        "data_notice": None})


@require_POST
def new_recovery_codes(request):
    if not request.user.is_authenticated:
        return redirect(sign_in.login_url(request))
    if not services.has_factor(user=request.user):
        messages.error(request, _("Add an authenticator app or a passkey first."))
        return redirect("two_step:setup")
    request.session[sign_in.CODES_KEY] = {
        "codes": services.make_recovery_codes(user=request.user), "next": ""}
    return redirect("two_step:codes")


@require_POST
def remove(request, kind: str, factor_id: int):
    if not request.user.is_authenticated:
        return redirect(sign_in.login_url(request))
    if not selectors.owns_factor(user=request.user, kind=kind, factor_id=factor_id):
        raise Http404  # someone else's (or no such) factor: nothing to say about it
    try:
        services.remove_factor(user=request.user, kind=kind, factor_id=factor_id,
                               client=sign_in.client_of(request))
    except services.TwoStepError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The second factor was removed."))
    return redirect("two_step:setup")


@require_POST
@tenant_admin_required
def policy(request):
    tenant = sign_in.client_of(request)
    if tenant is None:
        raise PermissionDenied
    try:
        services.set_policy(client=tenant, policy=request.POST.get("policy", ""),
                            actor=request.user)
    except services.TwoStepError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The two-step sign-in requirement was saved."))
    return redirect("two_step:setup")


@require_POST
@tenant_admin_required
def member_reset(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    services.reset_by_tenant_admin(user=member, actor=request.user)
    messages.success(request, _(
        "The two-step sign-in of %(email)s was reset: they set it up again at their next "
        "sign-in.") % {"email": member.email})
    return redirect("members")

