from django.urls import path

from tenants.sso import views

app_name = "sso"
urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("callback/", views.callback, name="callback"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/scim-token/", views.scim_token, name="scim-token"),
]
