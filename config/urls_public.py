"""URLs of the platform site (the public schema, served at BASE_DOMAIN)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from compliance.urls import public_urlpatterns as compliance_urls
from tenants import views
from tenants.two_step.views import AdminLoginView

admin.site.site_header = "TuneAIBot platform"
admin.site.site_title = "TuneAIBot platform"

# Error pages in the request's own thread and schema (a 404 never ends a session).
handler400 = "tenants.error_views.bad_request"
handler403 = "tenants.error_views.permission_denied"
handler404 = "tenants.error_views.page_not_found"

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("healthz", views.healthz, name="healthz"),
    # The interface strings of static/js in the current language (a script file:
    # the Content-Security-Policy allows no inline script).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Staff sign in with the same second step as a client's people (tenants.two_step).
    path("admin/login/", AdminLoginView.as_view(), name="staff-login"),
    path("accounts/two-step/", include("tenants.two_step.urls")),
    path("admin/", admin.site.urls),
    path("", include((compliance_urls, "compliance"))),
]

# A database outage is a 503 "temporarily unavailable", not a generic 500.
handler500 = "tenants.views.server_error"
