import math

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core import redis_client
from tenants.members import selectors, services, throttling
from tenants.members.forms import InviteForm, LanguageForm, WorkspaceLanguageForm
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required
from tenants.two_step import selectors as two_step_selectors


@tenant_admin_required
def member_list(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_member(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except services.MemberError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("members")
    return render(request, "members/list.html", {
        "members": selectors.list_members(), "form": form,
        "locked_out": selectors.locked_out_emails(),
        "with_second_factor": two_step_selectors.users_with_factor(),
    })


@require_POST
@tenant_admin_required
def member_set_active(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_member_active(user=user, active=active, actor=request.user)
    except services.MemberError as exc:
        messages.error(request, str(exc))
    else:
        message = (_("%(email)s was reactivated.") if active
                   else _("%(email)s was deactivated."))
        messages.success(request, message % {"email": user.email})
    return redirect("members")


@require_POST
@tenant_admin_required
def member_unlock(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    services.unlock_member(user=user, actor=request.user)
    messages.success(request, _(
        "%(email)s can sign in again: the pause after too many failed attempts was lifted."
    ) % {"email": user.email})
    return redirect("members")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page; a new password also signs the member out of every other
    browser (their sessions and answer-stream tokens end at once; this
    browser's session gets a new key)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.end_sessions(user=form.user,
                              keep_session_key=self.request.session.session_key)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's page; a password set from a reset link ends every session of
    the member (and their answer-stream tokens) at once."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.end_sessions(user=form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, limited per address and per e-mail (see throttling);
    the e-mail itself is written and sent by a worker (see services)."""

    def post(self, request, *args, **kwargs):
        try:
            wait = throttling.password_reset_wait(request)
        except redis_client.ERRORS:  # the cache (Redis) holds the counters
            return self._refuse(_(
                "Password reset is unavailable for a moment. Try again in a minute."
            ), status=503, retry_after=60)
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            return self._refuse(ngettext(
                "Too many password reset requests. Try again in %(minutes)d minute.",
                "Too many password reset requests. Try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}, status=429, retry_after=wait)
        return super().post(request, *args, **kwargs)

    def _refuse(self, message: str, *, status: int, retry_after: int):
        form = self.get_form()
        form.add_error(None, message)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = status
        response["Retry-After"] = str(retry_after)
        return response

    def form_valid(self, form):
        services.request_password_reset(email=form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


@login_required
def language_settings(request):
    """The person's own language and, for tenant admins, the workspace default.
    The header's language picker posts here too (with `next`)."""
    workspace = request.tenant if request.tenant.schema_name != "public" else None
    may_set_workspace = workspace is not None and request.user.is_tenant_admin
    form = LanguageForm(initial={"language": request.user.language})
    workspace_form = WorkspaceLanguageForm(
        initial={"default_language": getattr(workspace, "default_language", "")})
    if request.method == "POST":
        if "default_language" in request.POST:
            if not may_set_workspace:
                raise PermissionDenied(_("Only tenant admins can open this page."))
            workspace_form = WorkspaceLanguageForm(request.POST)
            if workspace_form.is_valid():
                services.set_workspace_language(
                    client=workspace, language=workspace_form.cleaned_data["default_language"])
                _activate_saved(request)
                messages.success(request, _("The workspace's default language was saved."))
                return redirect("language")
        else:
            form = LanguageForm(request.POST)
            if form.is_valid():
                services.set_language(user=request.user,
                                      language=form.cleaned_data["language"])
                _activate_saved(request)
                messages.success(request, _("Your language was saved."))
                return redirect(_safe_next(request) or "language")
    return render(request, "members/language.html", {
        "form": form, "workspace_form": workspace_form if may_set_workspace else None,
    })


def _activate_saved(request) -> None:
    """The confirmation is already in the language just chosen."""
    from tenants.middleware import chosen_language

    translation.activate(chosen_language(request) or translation.get_language_from_request(request))


def _safe_next(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""
