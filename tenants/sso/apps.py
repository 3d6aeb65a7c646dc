from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "tenants.sso"
    label = "sso"
    verbose_name = "Single sign-on"
