"""Client-site pages that need chat data: this workspace's data, the security
overview PDF with the workspace's settings, and data rights (export, erase)."""

from __future__ import annotations

import json

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chat import data_rights
from compliance import selectors as compliance_selectors
from compliance.overview_pdf import build_overview_pdf
from compliance.views import pdf_response
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required


@login_required
def workspace_data(request):
    return render(request, "compliance/workspace_data.html", {
        "facts": data_rights.workspace_facts(),
        "accepted": compliance_selectors.has_accepted_notice(user=request.user),
    })


@login_required
def overview_pdf(request):
    """The overview with this workspace's live settings: members only (the
    anonymous overview page links to the platform's PDF instead)."""
    content = compliance_selectors.overview()
    workspace = connection.tenant
    pdf = build_overview_pdf(sections=content.sections, links=content.links,
                             last_reviewed=content.last_reviewed,
                             workspace=data_rights.workspace_facts(),
                             workspace_name=workspace.name)
    return pdf_response(pdf)


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False),
                            content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M")


@login_required
def my_data_export(request):
    return _json_download(data_rights.export_user_data(user=request.user),
                          f"my-data-{_stamp()}.json")


@require_POST
@login_required
def my_conversations_delete(request):
    result = data_rights.delete_user_conversations(user=request.user)
    flash.success(request, f"Deleted {result['conversations']} conversation(s) and "
                  f"{result['messages']} message(s).")
    return redirect("privacy:workspace-data")


@tenant_admin_required
def member_export(request, user_id: int):
    member = get_object_or_404(User, pk=user_id)
    return _json_download(data_rights.export_user_data(user=member),
                          f"member-{member.pk}-{_stamp()}.json")


@require_POST
@tenant_admin_required
def member_erase(request, user_id: int):
    member = get_object_or_404(User, pk=user_id)
    result = data_rights.erase_member(user=member)
    flash.success(request, f"Erased the data of {member.email}: "
                  f"{result['conversations']} conversation(s), {result['messages']} "
                  "message(s).")
    return redirect("privacy:members-data")


@tenant_admin_required
def members_data(request):
    return render(request, "compliance/members_data.html", {
        "members": User.objects.order_by("email")})
