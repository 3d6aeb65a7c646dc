"""Reads for knowledge files. Everything is in the current client's schema, so
another client's ids simply do not exist here (404)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings


def get_settings() -> KnowledgeSettings:
    """The client's knowledge options. A read: the row is created by a migration
    (in the template every client is cloned from); without it, the defaults,
    unsaved (set_semantic_search saves them as row 1)."""
    return KnowledgeSettings.objects.order_by("pk").first() or KnowledgeSettings(pk=1)


def semantic_search_in_use() -> str:
    """Which embeddings this client's semantic search uses, as a sentence for
    the data page."""
    from knowledge import local_embeddings, multilingual, vectors

    options = get_settings()
    if not options.semantic_search:
        return gettext("Off: documents are indexed in our database only (full-text search)")
    if vectors.unavailable_reason():
        return gettext("Unavailable on this server (no pgvector): full-text search only; "
                       "nothing is sent for embeddings")
    if options.embedding_provider == KnowledgeSettings.Provider.LOCAL:
        if multilingual.available():
            return gettext(
                "On, local models: %(model)s; a new file is searched with %(fast)s until "
                "its %(short)s vectors are computed. Document text stays in this workspace"
            ) % {"model": multilingual.MODEL_NAME, "fast": "WordLlama",
                 "short": "multilingual"}
        return gettext("On, local model (%(model)s): document text stays in this "
                       "workspace") % {"model": local_embeddings.MODEL_NAME}
    return gettext("On, embeddings API: document text is sent to the embeddings API")


def library_files() -> QuerySet[KnowledgeFile]:
    return KnowledgeFile.objects.filter(conversation__isnull=True).select_related("uploaded_by")


def get_library_file(*, file_id: int) -> KnowledgeFile:
    return get_object_or_404(library_files(), pk=file_id)


def attachments_for(*, conversation) -> QuerySet[KnowledgeFile]:
    return KnowledgeFile.objects.filter(conversation=conversation).order_by("created", "id")


def chunks_of(*, file: KnowledgeFile) -> QuerySet[KnowledgeChunk]:
    return file.chunks.order_by("index").defer("search")


def get_passage(*, user, chunk_id: int) -> KnowledgeChunk:
    """A cited passage: library passages for every member of the client; an
    attachment's only for the owner of its conversation."""
    visible = Q(file__conversation__isnull=True) | Q(file__conversation__user=user)
    return get_object_or_404(
        KnowledgeChunk.objects.select_related("file").defer("search").filter(visible),
        pk=chunk_id,
    )
