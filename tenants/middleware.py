from django.conf import settings
from django.shortcuts import render
from django.utils import translation

from tenants import views


class HealthCheckMiddleware:
    """/healthz answers on any host (a load balancer may use the IP) before the
    tenant is looked up, so it gives its JSON even while PostgreSQL is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return views.healthz(request)
        return self.get_response(request)


class SuspendedClientMiddleware:
    """A suspended client's site answers every request with a clear page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.is_suspended and request.path != "/healthz":
            # Answered before sessions and LocaleMiddleware: the workspace's
            # language, else the browser's.
            translation.activate(tenant.default_language
                                 or translation.get_language_from_request(request))
            return render(request, "errors/suspended.html", {"client": tenant}, status=403)
        return self.get_response(request)


class UserLanguageMiddleware:
    """The language of each request: the person's saved choice, else their
    workspace's default (a tenant admin setting), else what LocaleMiddleware
    read from the browser (Accept-Language). Runs after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def chosen_language(request) -> str:
    """The saved language for this request ('' when neither person nor workspace chose)."""
    known = {code for code, _name in settings.LANGUAGES}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "language", "") in known:
        return user.language
    tenant = getattr(request, "tenant", None)
    language = getattr(tenant, "default_language", "") or ""
    return language if language in known else ""
