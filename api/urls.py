from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    # The OpenAI-compatible API: a member's token in the Authorization header.
    path("v1/chat/completions", views.chat_completions, name="chat-completions"),
    path("v1/models", views.models, name="models"),
    # A member's own tokens, and the page on using the assistant from tools.
    path("accounts/api-tokens/", views.tokens, name="tokens"),
    path("accounts/api-tokens/<int:token_id>/revoke/", views.token_revoke,
         name="token-revoke"),
    path("api/", views.docs, name="docs"),
    path("api/openapi.json", views.openapi, name="openapi"),
    # Tenant admins: every member's tokens, the API switch and CORS origins.
    path("settings/api/", views.admin_tokens, name="admin-tokens"),
    path("settings/api/tokens/<int:token_id>/revoke/", views.admin_token_revoke,
         name="admin-token-revoke"),
]
