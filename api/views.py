"""The API's doors (bearer token, no session, no CSRF) and the token pages
(members: their own tokens; tenant admins: everyone's, and the API switch).
Thin: they call api.completions, api.services and api.selectors."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from api import completions, selectors, services
from api.errors import ApiError
from api.forms import ApiSettingsForm, TokenForm
from chat import services as chat_services
from chat import streams
from tenants.members.permissions import tenant_admin_required

CORS_HEADERS = "Authorization, Content-Type, X-Keep-History"


def _cors(request, api_settings=None) -> dict:
    """CORS headers for an origin the client listed; none otherwise (CORS off)."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return {}
    api_settings = api_settings or selectors.get_api_settings()
    if origin.rstrip("/").lower() in api_settings.cors_origins:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Max-Age": "600"}
    return {}


def _preflight(request) -> HttpResponse:
    headers = _cors(request)
    return HttpResponse(status=204 if headers else 403, headers=headers)


def _method_not_allowed(request, allowed: str) -> JsonResponse:
    """A wrong method: still 401 without a valid token (a door says nothing
    to strangers), else 405."""
    try:
        services.authenticate(authorization=request.headers.get("Authorization", ""))
    except ApiError as exc:
        return exc.response()
    return ApiError(405, gettext("Use %(method)s on this address.") % {"method": allowed}
                    ).response(headers={"Allow": allowed})


def _begin(request) -> tuple[completions.Call | ApiError, dict]:
    """Authorise and send the question, and the CORS headers: one trip to a
    thread, one read of the API settings."""
    api_settings = selectors.get_api_settings()
    cors = _cors(request, api_settings)
    try:
        return completions.start(
            authorization=request.headers.get("Authorization", ""), body=request.body,
            keep_header=request.headers.get(completions.KEEP_HEADER, ""),
            api_settings=api_settings), cors
    except ApiError as exc:
        return exc, cors


@csrf_exempt
async def chat_completions(request):
    if request.method == "OPTIONS":
        return await sync_to_async(_preflight)(request)
    if request.method != "POST":
        return await sync_to_async(_method_not_allowed)(request, "POST")
    call, cors = await sync_to_async(_begin)(request)
    if isinstance(call, ApiError):
        return call.response(headers=cors)
    if call.stream:
        return StreamingHttpResponse(
            completions.chunks(call), content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **cors})
    try:
        body = await completions.complete(call)
    except ApiError as exc:
        return exc.response(headers=cors)
    except streams.StreamUnavailable:
        return ApiError(503, chat_services.unavailable_message(), retry_after=5
                        ).response(headers=cors)
    return JsonResponse(body, headers=cors)


@csrf_exempt
def models(request):
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "GET":
        return _method_not_allowed(request, "GET")
    cors = _cors(request)
    try:
        return JsonResponse(completions.models_list(
            authorization=request.headers.get("Authorization", "")), headers=cors)
    except ApiError as exc:
        return exc.response(headers=cors)


# --- A member's tokens ------------------------------------------------------------

@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_token(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            created = {"token": token, "secret": secret}
            form = TokenForm()
    response = render(request, "api/tokens.html", {
        "form": form, "created": created, "tokens": selectors.tokens_of(user=request.user),
        "api_settings": selectors.get_api_settings(),
        "base_url": request.build_absolute_uri("/v1"),
    })
    if created:
        response["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


@require_POST
@login_required
def token_revoke(request, token_id: int):
    token = selectors.get_own_token(user=request.user, token_id=token_id)
    services.revoke_token(token=token, by=request.user)
    flash.success(request, gettext("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:tokens")


@login_required
def docs(request):
    from chat import selectors as chat_selectors

    return render(request, "api/docs.html", {
        "base_url": request.build_absolute_uri("/v1"),
        "model": completions.model_id(chat_selectors.get_bot_config()),
        "openapi_url": reverse("api:openapi"),
    })


@login_required
def openapi(request):
    from api.openapi import document

    return JsonResponse(document(server=request.build_absolute_uri("/v1")),
                        json_dumps_params={"indent": 2})


# --- Tenant admins ----------------------------------------------------------------

@tenant_admin_required
def admin_tokens(request):
    api_settings = selectors.get_api_settings()
    form = ApiSettingsForm(request.POST or None, initial={
        "enabled": api_settings.enabled,
        "cors_origins": "\n".join(api_settings.cors_origins)})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_api_settings(**form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            flash.success(request, gettext("API settings saved."))
            return redirect("api:admin-tokens")
    return render(request, "api/admin_tokens.html", {
        "form": form, "api_settings": api_settings, "tokens": selectors.all_tokens()})


@require_POST
@tenant_admin_required
def admin_token_revoke(request, token_id: int):
    token = selectors.get_token(token_id=token_id)
    services.revoke_token(token=token, by=request.user)
    flash.success(request, gettext("Token “%(name)s” of %(email)s revoked.")
                  % {"name": token.name, "email": token.user.email})
    return redirect("api:admin-tokens")

