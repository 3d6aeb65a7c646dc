from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tenants.members.permissions import tenant_admin_required
from tenants.sso import selectors, services
from tenants.sso.forms import SsoSettingsForm

BACKEND = "tenants.sso.backends.SsoAwareModelBackend"


def _callback_url(request) -> str:
    return request.build_absolute_uri(reverse("sso:callback"))


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return reverse("chat:home")


def _error(request, exc: services.SsoError):
    return render(request, "sso/error.html", {"message": exc.message}, status=exc.status)


@require_GET
def sign_in(request):
    """Send the person to the company's provider (authorization code + PKCE)."""
    try:
        url = services.start_sign_in(session=request.session,
                                     redirect_uri=_callback_url(request),
                                     next_url=request.GET.get("next", ""))
    except services.SsoError as exc:
        return _error(request, exc)
    return redirect(url)


@require_GET
def callback(request):
    """The provider sends the person back here with a code (or an error)."""
    try:
        result = services.finish_sign_in(session=request.session, params=request.GET.dict(),
                                         redirect_uri=_callback_url(request))
    except services.SsoError as exc:
        return _error(request, exc)
    login(request, result.user, backend=BACKEND)  # a new session key: no fixation
    request.session[services.SSO_SESSION_KEY] = True
    return redirect(_safe_next(request, result.next_url))


@tenant_admin_required
def settings_page(request):
    config = selectors.get_settings()
    form = SsoSettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.save_settings(values=values, client_secret=form.cleaned_data["client_secret"])
        messages.success(request, _("Single sign-on settings saved."))
        return redirect("sso:settings")
    return render(request, "sso/settings.html", {
        "form": form, "config": config, "callback_url": _callback_url(request),
        "scim_url": request.build_absolute_uri("/scim/v2/"),
        "login_url": request.build_absolute_uri(reverse("login")),
    })


@never_cache
@require_POST
@tenant_admin_required
def scim_token(request):
    """Make (or rotate) the SCIM token and show it this once; or revoke it."""
    if request.POST.get("action") == "revoke":
        services.revoke_scim_token()
        messages.success(request, _("The SCIM token was revoked; the directory can no longer "
                                    "change members."))
        return redirect("sso:settings")
    token = services.rotate_scim_token()
    config = selectors.get_settings()
    return render(request, "sso/settings.html", {
        "form": SsoSettingsForm(instance=config), "config": config, "new_scim_token": token,
        "callback_url": _callback_url(request),
        "scim_url": request.build_absolute_uri("/scim/v2/"),
        "login_url": request.build_absolute_uri(reverse("login")),
    })
