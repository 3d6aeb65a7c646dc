"""Compliance pages: the security overview (platform and client sites), a
client's data controls, its audit trail, and accepting the data notice."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from compliance import selectors, services, usage_chart
from compliance.entities import ENTITY_LABELS
from compliance.forms import AuditFilterForm, DataControlsForm
from compliance.overview_content import BulletListBlock, parse_body
from compliance.overview_pdf import build_overview_pdf
from compliance.overview_versions import DEFAULT_LANGUAGE, VERSIONS, base_language, labels_for
from compliance.spreadsheet import csv_download
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required


def overview_language(request) -> str | None:
    """The language the overview is asked for: ``?lang=`` (en, ko, ja; kept for
    links and tests) or else the request's active language. None for a ``lang``
    value that is not one of ours."""
    asked = request.GET.get("lang", "").strip()
    if not asked:
        return translation.get_language() or DEFAULT_LANGUAGE
    code = base_language(asked)
    return code if code in VERSIONS else None


def unknown_language(request) -> HttpResponse:
    # In the reader's language (the one asked for is the unknown one).
    labels = labels_for(translation.get_language() or DEFAULT_LANGUAGE)
    return HttpResponse(
        labels.unknown_language.format(lang=request.GET.get("lang", "")[:20],
                                       choices=", ".join(VERSIONS)),
        status=400, content_type="text/plain; charset=utf-8")


def overview(request):
    language = overview_language(request)
    if language is None:
        return unknown_language(request)
    content = selectors.overview(language=language)
    sections = [{"section": s, "blocks": [
        {"bullets": b.items} if isinstance(b, BulletListBlock) else {"text": b.text}
        for b in parse_body(s.body)]} for s in content.sections]
    explicit = bool(request.GET.get("lang", "").strip())
    with translation.override(content.requested if explicit else translation.get_language()):
        response = render(request, "compliance/overview.html", {
            "overview": content, "labels": content.labels, "sections": sections,
            "links": content.links, "last_reviewed": content.last_reviewed,
            "reviewed": content.labels.reviewed(content.last_reviewed),
            "language_choices": [(code, version.labels.language_name)
                                 for code, version in VERSIONS.items()],
            "pdf_query": f"?lang={content.requested}" if explicit else "",
        })
    response["Content-Language"] = content.language
    return response


def overview_pdf(request):
    language = overview_language(request)
    if language is None:
        return unknown_language(request)
    content = selectors.overview(language=language)
    pdf = build_overview_pdf(sections=content.sections, links=content.links,
                             last_reviewed=content.last_reviewed, language=content.language,
                             note=content.fallback_note)
    return pdf_response(pdf, language=content.language)


def pdf_response(pdf: bytes, *, language: str = DEFAULT_LANGUAGE) -> HttpResponse:
    suffix = "" if language == DEFAULT_LANGUAGE else f"-{language}"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="TuneAIBot-Security-Overview{suffix}.pdf"')
    response["Content-Language"] = language
    return response


@require_POST
@login_required
def accept_notice(request):
    services.accept_notice(user=request.user)
    request.session["compliance_notice_ok"] = True
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    return redirect(target)


@tenant_admin_required
def data_controls(request):
    controls = selectors.get_data_controls()
    form = DataControlsForm(request.POST or None, instance=controls)
    if request.method == "POST" and form.is_valid():
        services.update_data_controls(controls=controls, **{
            name: form.cleaned_data[name] for name in form.Meta.fields})
        flash.success(request, gettext("Data controls saved."))
        return redirect("compliance:data-controls")
    return render(request, "compliance/data_controls.html", {
        "form": form, "client_usage": selectors.client_usage(controls=controls),
        "user_quota": controls.user_monthly_token_quota,
        "top_users": _top_users(),
    })


def _top_users():
    from django.db.models import Sum

    rows = (selectors.audit_records().filter(created__gte=selectors.month_start())
            .exclude(user_id=None).order_by().values("user_email")
            .annotate(p=Sum("prompt_tokens"), c=Sum("completion_tokens")))
    usage = [{"email": r["user_email"], "tokens": (r["p"] or 0) + (r["c"] or 0)} for r in rows]
    return sorted(usage, key=lambda row: -row["tokens"])[:20]


# What a model call was for, as the audit table names it.
CALL_KINDS = {"chat": gettext_noop("Answer"), "embed": gettext_noop("Indexing"),
              "check": gettext_noop("Connection test")}

CSV_FIELDS = ["seq", "created", "kind", "user_id", "user_email", "conversation_id",
              "endpoint", "model", "prompt_tokens", "completion_tokens", "latency_ms",
              "status", "error_kind", "redactions", "prev_hash", "hash"]


@tenant_admin_required
def audit_log(request):
    users = User.objects.order_by("email")
    form = AuditFilterForm(request.GET or None, users=users)
    filters = form.cleaned_data if form.is_valid() else {}
    records = selectors.audit_records(
        user_id=filters.get("user"), status=filters.get("status", ""),
        since=filters.get("since"), until=filters.get("until"))
    if request.GET.get("format") == "csv":
        rows = ([
            record.created.isoformat() if name == "created" else
            ";".join(f"{k}={v}" for k, v in record.redactions.items())
            if name == "redactions" else getattr(record, name)
            for name in CSV_FIELDS] for record in records.order_by("seq").iterator(chunk_size=2000))
        return csv_download(filename="audit-trail.csv", header=CSV_FIELDS, rows=rows)
    chart = usage_chart.build(per_user=selectors.usage_by_day_and_user(records),
                              per_day=selectors.usage_by_day(records))
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    for record in page:
        record.kind_label = gettext(CALL_KINDS[record.kind]) if record.kind in CALL_KINDS \
            else record.kind
        record.redaction_labels = [(gettext(ENTITY_LABELS.get(kind, kind)), count)
                                   for kind, count in record.redactions.items()]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "compliance/audit_log.html", {
        "form": form, "page": page, "chart": chart, "query": query.urlencode(),
        "chart_data": {key: chart[key] for key in ("labels", "dates", "datasets", "axes")
                       } if chart["rows"] else None,
        "client_usage": selectors.client_usage(), "total": records.count(),
    })
