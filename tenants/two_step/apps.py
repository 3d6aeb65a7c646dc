from django.apps import AppConfig


class TwoStepConfig(AppConfig):
    name = "tenants.two_step"
    label = "two_step"
    verbose_name = "Two-step sign-in"
