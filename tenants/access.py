"""Who may open what on a client's site without signing in.

Everything on a client's site needs a signed-in member, except the routes
named in ANONYMOUS_ROUTES: signing in, resetting a password, the public
security overview and the health check (and SELF_AUTHENTICATING_ROUTES, which
check their own credentials, such as an API token). The list is explicit (a new route is
private until someone adds it here on purpose), and
tests/security/doors/test_anonymous_allow_list.py walks the tenant URLconf to
prove every other route sends an anonymous visitor to the login page.

The platform site (public schema: admin, platform pages) is left to its own
rules; the Django admin has its own login.
"""

from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django_tenants.utils import get_public_schema_name

# View names (namespace:name) an anonymous visitor may open on a client's site.
ANONYMOUS_ROUTES = frozenset({
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "compliance:overview",  # the public security overview (no client facts)
    "healthz",  # load balancers: "ok"/"down" per service, nothing of the client
    "javascript-catalog",  # interface strings for static/js (the sign-in page loads it too)
    "sso:login",  # starts the company's single sign-on (tenants/sso)
    "sso:callback",  # the identity provider sends the person back here
    # The second step of a password sign-in (tenants.two_step): these pages
    # check the half-finished sign-in in the session themselves, and send
    # anyone without one back to the sign-in page.
    "two_step:verify",
    "two_step:passkey-sign-in-options",
    "two_step:passkey-sign-in",
    "two_step:setup",
    "two_step:totp",
    "two_step:passkey-register-options",
    "two_step:passkey-register",
})


# View names that authenticate each request themselves, not with a session
# (e.g. an API called with a bearer token): they pass the login check and must
# answer 401/403 without their own credentials (the doors tests check that).
SELF_AUTHENTICATING_ROUTES: frozenset[str] = frozenset({
    # SCIM 2.0 for the company's directory: a per-client bearer token, no session.
    "scim:service-provider-config",
    "scim:resource-types",
    "scim:schemas",
    "scim:users",
    "scim:user",
    # The OpenAI-compatible API: a member's personal access token (api/).
    "api:chat-completions",
    "api:models",
})


def is_anonymous_route(view_name: str) -> bool:
    return view_name in ANONYMOUS_ROUTES or view_name in SELF_AUTHENTICATING_ROUTES


class ClientSiteLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, with our allow-list instead of the
    per-view `login_not_required` marks (Django's own auth views carry that
    mark, logout included; here only ANONYMOUS_ROUTES counts)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        match = request.resolver_match
        if match is not None and is_anonymous_route(match.view_name):
            return None
        if request.user.is_authenticated:
            return None
        return self.handle_no_permission(request, view_func)
