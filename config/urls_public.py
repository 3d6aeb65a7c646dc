"""URLs of the platform site (the public schema, served at BASE_DOMAIN)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from compliance.urls import public_urlpatterns as compliance_urls
from tenants import views

admin.site.site_header = "TuneAIBot platform"
admin.site.site_title = "TuneAIBot platform"

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("healthz", views.healthz, name="healthz"),
    # The interface strings of static/js in the current language (a script file:
    # the Content-Security-Policy allows no inline script).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include((compliance_urls, "compliance"))),
]

# A database outage is a 503 "temporarily unavailable", not a generic 500.
handler500 = "tenants.views.server_error"
