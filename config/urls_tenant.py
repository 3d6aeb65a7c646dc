"""URLs of a client's site (<slug>.<BASE_DOMAIN>, the client's own schema)."""

from django.urls import include, path

from tenants import views

urlpatterns = [
    path("", include("chat.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("tenants.members.urls")),
    path("", include("compliance.urls")),
    path("", include("chat.privacy_urls")),
    # Single sign-on (OpenID Connect) and the directory's SCIM 2.0 endpoint.
    path("sso/", include("tenants.sso.urls")),
    path("scim/v2/", include("tenants.sso.scim_urls")),
]
