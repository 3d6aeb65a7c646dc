"""Client-site pages that need chat data: this workspace's data, the security
overview PDF with the workspace's settings, and data rights (export, erase)."""

from __future__ import annotations

import json

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from compliance import selectors as compliance_selectors
from compliance.overview_pdf import build_overview_pdf
from compliance.views import overview_language, pdf_response, unknown_language
from data_rights import selectors
from data_rights import services as data_rights
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required


@login_required
def workspace_data(request):
    return render(request, "compliance/workspace_data.html", {
        "facts": selectors.workspace_facts(),
        "accepted": compliance_selectors.has_accepted_notice(user=request.user),
    })


@login_required
def overview_pdf(request):
    """The overview with this workspace's live settings: members only (the
    anonymous overview page links to the platform's PDF instead)."""
    language = overview_language(request)
    if language is None:
        return unknown_language(request)
    content = compliance_selectors.overview(language=language)
    workspace = connection.tenant
    # The facts' labels are translated in the language of the document.
    with translation.override(content.language):
        facts = selectors.workspace_facts()
    pdf = build_overview_pdf(sections=content.sections, links=content.links,
                             last_reviewed=content.last_reviewed, language=content.language,
                             note=content.fallback_note, workspace=facts,
                             workspace_name=workspace.name)
    return pdf_response(pdf, language=content.language)


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False),
                            content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M")


@login_required
def my_data_export(request):
    return _json_download(selectors.export_user_data(user=request.user),
                          f"my-data-{_stamp()}.json")


@require_POST
@login_required
def my_conversations_delete(request):
    result = data_rights.delete_user_conversations(user=request.user)
    flash.success(request, _deleted_sentence(result))
    return redirect("privacy:workspace-data")


@tenant_admin_required
def member_export(request, user_id: int):
    member = get_object_or_404(User, pk=user_id)
    return _json_download(selectors.export_user_data(user=member),
                          f"member-{member.pk}-{_stamp()}.json")


@require_POST
@tenant_admin_required
def member_erase(request, user_id: int):
    member = get_object_or_404(User, pk=user_id)
    result = data_rights.erase_member(user=member)
    flash.success(request, gettext("Erased the data of %(email)s:") % {"email": member.email}
                  + " " + _deleted_sentence(result))
    return redirect("privacy:members-data")


@tenant_admin_required
def members_data(request):
    return render(request, "compliance/members_data.html", {
        "members": User.objects.order_by("email")})


def _deleted_sentence(result: dict) -> str:
    conversations = ngettext("%(count)s conversation", "%(count)s conversations",
                             result["conversations"]) % {"count": result["conversations"]}
    messages = ngettext("%(count)s message", "%(count)s messages",
                        result["messages"]) % {"count": result["messages"]}
    return gettext("Deleted %(conversations)s and %(messages)s.") % {
        "conversations": conversations, "messages": messages}
