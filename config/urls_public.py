"""URLs of the platform site (the public schema, served at BASE_DOMAIN)."""

from django.contrib import admin
from django.urls import include, path

from compliance.urls import public_urlpatterns as compliance_urls
from tenants import views

admin.site.site_header = "TuneAIBot platform"
admin.site.site_title = "TuneAIBot platform"

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include((compliance_urls, "compliance"))),
]

# Error pages see the request's own client schema (see tenants.views).
handler400 = "tenants.views.bad_request"
handler403 = "tenants.views.permission_denied"
handler404 = "tenants.views.page_not_found"
handler500 = "tenants.views.server_error"
