"""URLs of a client's site (<slug>.<BASE_DOMAIN>, the client's own schema)."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from tenants import views

# Error pages in the request's own thread and schema (a 404 never ends a session).
handler400 = "tenants.error_views.bad_request"
handler403 = "tenants.error_views.permission_denied"
handler404 = "tenants.error_views.page_not_found"

urlpatterns = [
    path("", include("chat.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("healthz", views.healthz, name="healthz"),
    # The interface strings of static/js in the current language (a script file:
    # the Content-Security-Policy allows no inline script).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/two-step/", include("tenants.two_step.urls")),
    path("accounts/", include("tenants.members.urls")),
    path("", include("compliance.urls")),
    path("", include("data_rights.urls")),
    # Single sign-on (OpenID Connect) and the directory's SCIM 2.0 endpoint.
    path("sso/", include("tenants.sso.urls")),
    path("scim/v2/", include("tenants.sso.scim_urls")),
    # The OpenAI-compatible API (/v1/...), members' tokens and its pages.
    path("", include("api.urls")),
]

# A database outage is a 503 "temporarily unavailable", not a generic 500.
handler500 = "tenants.views.server_error"
