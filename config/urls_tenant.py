"""URLs of a client's site (<slug>.<BASE_DOMAIN>, the client's own schema)."""

from django.urls import include, path

from tenants import views

urlpatterns = [
    path("", include("chat.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("tenants.members.urls")),
    path("", include("compliance.urls")),
    path("", include("chat.privacy_urls")),
]

# Error pages see the request's own client schema (see tenants.views).
handler400 = "tenants.views.bad_request"
handler403 = "tenants.views.permission_denied"
handler404 = "tenants.views.page_not_found"
handler500 = "tenants.views.server_error"
