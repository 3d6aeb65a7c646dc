from django import template

from tenants.sso import selectors

register = template.Library()


@register.inclusion_tag("sso/_sign_in.html")
def sso_sign_in(next_url: str = ""):
    """The "Sign in with <company>" button on the login page, when configured."""
    label, sso_only = selectors.sign_in_offer()
    return {"label": label, "next": next_url, "sso_only": sso_only}
