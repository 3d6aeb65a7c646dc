from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def tenant_admin_required(view):
    """Only the client's tenant admins may open this page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_tenant_admin:
            raise PermissionDenied(_("Only tenant admins can open this page."))
        return view(request, *args, **kwargs)

    return wrapper
