from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Clients"

    def ready(self) -> None:
        from tenants import checks  # registers the deploy check

        checks.warn_at_start()
