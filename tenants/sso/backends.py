from django.contrib.auth.backends import ModelBackend

from tenants.sso import selectors


class SsoAwareModelBackend(ModelBackend):
    """Django's email + password backend, except that members of a client whose
    sign-in is "SSO only" cannot use a password (its break-glass admin can).
    Sessions opened through the provider use this backend too: get_user, like
    ModelBackend's, returns nobody for a deactivated account, so a deactivated
    member's session ends at their next request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not selectors.password_login_allowed(user=user):
            return None
        return user
