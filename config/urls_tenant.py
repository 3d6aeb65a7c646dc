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

# A database outage is a 503 "temporarily unavailable", not a generic 500.
handler500 = "tenants.views.server_error"
