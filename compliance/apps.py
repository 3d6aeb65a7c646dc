from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from django.core import checks

        from compliance.checks import audit_keys

        checks.register(audit_keys, "compliance")
