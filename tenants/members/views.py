from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenants.members import selectors, services
from tenants.members.forms import InviteForm
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required


@tenant_admin_required
def member_list(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_member(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except services.MemberError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {user.email}.")
            return redirect("members")
    return render(
        request, "members/list.html", {"members": selectors.list_members(), "form": form}
    )


@require_POST
@tenant_admin_required
def member_set_active(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_member_active(user=user, active=active, actor=request.user)
    except services.MemberError as exc:
        messages.error(request, str(exc))
    else:
        verb = "reactivated" if active else "deactivated"
        messages.success(request, f"{user.email} was {verb}.")
    return redirect("members")
