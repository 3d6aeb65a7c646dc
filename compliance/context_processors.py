from django.db import connection
from django_tenants.utils import get_public_schema_name


def notice(request):
    """The platform's security overview address (linked from every footer), and
    whether to show the first-use data notice (once accepted, never again)."""
    from django.conf import settings

    from tenants.services import site_url

    base = {"platform_compliance_url": site_url(settings.BASE_DOMAIN) + "compliance/"}
    user = getattr(request, "user", None)
    if (connection.schema_name == get_public_schema_name() or user is None
            or not user.is_authenticated):
        return base
    if request.session.get("compliance_notice_ok"):
        return base
    from compliance import selectors

    controls = selectors.get_data_controls()
    if selectors.has_accepted_notice(user=user, controls=controls):
        request.session["compliance_notice_ok"] = True
        return base
    from django.utils.translation import gettext

    kinds = [gettext(selectors.ENTITY_LABELS[e]) for e in controls.redaction_entities
             if e in selectors.ENTITY_LABELS]
    return {**base, "data_notice": {"redaction_enabled": controls.redaction_enabled, "kinds": kinds,
                            "terms": bool(controls.redaction_terms)}}
