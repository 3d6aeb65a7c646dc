"""Knowledge pages and endpoints: thin, they call selectors and services."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import resolve, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from knowledge import selectors, services, vectors
from knowledge.models import KnowledgeFile, KnowledgeSettings
from tenants.members.permissions import tenant_admin_required


def file_json(file: KnowledgeFile) -> dict:
    return {
        "id": file.pk,
        "name": file.display_name,
        "kind": file.kind,
        "size_bytes": file.size_bytes,
        "status": file.status,
        "status_label": file.get_status_display(),
        "progress": [file.progress_done, file.progress_total],
        "error": file.error,
        "error_code": file.error_code,
        "embedding_note": file.embedding_note,
        "pages": file.page_count,
        "chunks": file.chunk_count,
        "embedded_chunks": file.embedded_chunks,
        "minilm_chunks": file.minilm_chunks,
        "uploader": file.uploaded_by.email if file.uploaded_by_id and file.uploaded_by else "",
        "created": file.created.isoformat(),
        "chunks_url": reverse("knowledge:chunks", args=[file.pk])
        if file.conversation_id is None else "",
    }


def uploaded(request, *, conversation=None) -> JsonResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": gettext("Choose a file to upload.")}, status=400)
    limit = settings.KNOWLEDGE_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size > limit:  # refuse before reading it
        return JsonResponse({"error": gettext(
            "The file is larger than the %(limit)s MB limit. Split it into smaller files, then "
            "upload again.") % {"limit": settings.KNOWLEDGE_MAX_UPLOAD_MB},
            "code": "too_large"}, status=400)
    data = (Path(upload.temporary_file_path()) if hasattr(upload, "temporary_file_path")
            else upload.read())
    try:
        uploaded = services.upload_with_outcome(
            user=request.user, name=upload.name, data=data, conversation=conversation,
            on_duplicate=request.POST.get("duplicate") or services.OnDuplicate.ASK)
    except services.DuplicateFile as exc:
        return JsonResponse({"error": exc.message, "code": exc.code,
                             "duplicate_of": file_json(exc.existing)}, status=exc.status)
    except services.KnowledgeError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=exc.status)
    body = {"file": file_json(uploaded.file), "outcome": uploaded.outcome}
    if uploaded.outcome == "kept":
        body["message"] = gettext("Nothing new was added: the library keeps “%(name)s”.") % {
            "name": uploaded.file.display_name}
    return JsonResponse(body, status=201 if uploaded.outcome == "created" else 200)


# --- Tenant admins: the library ------------------------------------------------------

@tenant_admin_required
def library(request):
    options = selectors.get_settings()
    return render(request, "knowledge/library.html", {
        "files": selectors.library_files(),
        "options": options,
        "vector_reason": vectors.unavailable_reason(),
        "embedding_reason": services.embedding_unavailable_reason(),
        "default_embedding_model": settings.KNOWLEDGE_EMBEDDING_MODEL,
        "semantic_in_use": selectors.semantic_search_in_use(),
        "minilm_in_use": services.minilm_wanted(),
        "providers": KnowledgeSettings.Provider,
        "max_upload_mb": settings.KNOWLEDGE_MAX_UPLOAD_MB,
    })


@require_GET
@tenant_admin_required
def library_status(request):
    return JsonResponse({"files": [file_json(file) for file in selectors.library_files()],
                         "minilm_in_use": services.minilm_wanted()})


@require_POST
@tenant_admin_required
def library_upload(request):
    return uploaded(request)


@require_POST
@tenant_admin_required
def file_delete(request, file_id: int):
    file = selectors.get_library_file(file_id=file_id)
    services.delete_file(file=file)
    if _wants_json(request):
        return JsonResponse({"deleted": file_id})
    flash.success(request, gettext("“%(name)s” was deleted with its index.") % {
        "name": file.display_name})
    return redirect("knowledge:library")


@require_POST
@tenant_admin_required
def file_reindex(request, file_id: int):
    file = selectors.get_library_file(file_id=file_id)
    try:
        file = services.reindex(file=file)
    except services.KnowledgeError as exc:
        if _wants_json(request):
            return JsonResponse({"error": exc.message}, status=exc.status)
        flash.error(request, exc.message)
        return redirect("knowledge:library")
    if _wants_json(request):
        return JsonResponse({"file": file_json(file)})
    flash.success(request, gettext("“%(name)s” will be indexed again.") % {
        "name": file.display_name})
    return redirect("knowledge:library")


@tenant_admin_required
def file_chunks(request, file_id: int):
    file = selectors.get_library_file(file_id=file_id)
    page = Paginator(selectors.chunks_of(file=file), 20).get_page(request.GET.get("page"))
    return render(request, "knowledge/chunks.html", {"file": file, "page": page})


@require_POST
@tenant_admin_required
def library_settings(request):
    enabled = request.POST.get("semantic_search") == "on"
    provider = request.POST.get("embedding_provider", KnowledgeSettings.Provider.LOCAL)
    try:
        services.set_semantic_search(enabled=enabled, provider=provider,
                                     embedding_model=request.POST.get("embedding_model", ""))
    except services.KnowledgeError as exc:
        flash.error(request, exc.message)
    else:
        if not enabled:
            flash.success(request, gettext("Semantic search is off; stored embeddings were "
                                           "deleted."))
        elif provider == KnowledgeSettings.Provider.LOCAL:
            flash.success(request, gettext("Semantic search is on with the local model: your "
                                           "files are being embedded inside the workspace."))
        else:
            flash.success(request, gettext("Semantic search is on with the embeddings API: "
                                           "your files are being sent to it to be embedded."))
    return redirect("knowledge:library")


# --- Everyone: passages (attaching a file to a conversation is chat's: chat.views) ----

@login_required
def passage(request, chunk_id: int):
    chunk = selectors.get_passage(user=request.user, chunk_id=chunk_id)
    return render(request, "knowledge/passage.html", {
        "chunk": chunk, "file": chunk.file, "back_url": _conversation_referrer(request)})


def _conversation_referrer(request) -> str:
    """Where the passage's Back link goes when there is no page to go back to
    (a citation opens the passage in a new tab): the conversation that cited
    it, named by the Referer (this site's own pages only), else the chat."""
    referrer = urlsplit(request.headers.get("Referer", ""))
    if referrer.netloc == request.get_host() and referrer.scheme in ("http", "https"):
        try:
            match = resolve(referrer.path)
        except Http404:
            match = None
        if match is not None and match.view_name == "chat:conversation":
            return referrer.path
    return reverse("chat:home")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")
