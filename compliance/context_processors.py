from django.db import connection
from django_tenants.utils import get_public_schema_name


def notice(request):
    """The security overview's address for the footer (on a client's site its
    own copy, so the reader stays in the workspace), the platform's (for its
    PDF), and whether to show the first-use data notice (once accepted, never
    again)."""
    from django.conf import settings
    from django.urls import reverse

    from tenants.services import site_url

    platform_url = site_url(settings.BASE_DOMAIN) + "compliance/"
    on_platform = connection.schema_name == get_public_schema_name()
    base = {"platform_compliance_url": platform_url,
            "overview_url": platform_url if on_platform else reverse("compliance:overview")}
    user = getattr(request, "user", None)
    if (on_platform or user is None
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
