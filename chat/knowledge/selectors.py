"""Reads for knowledge files. Everything is in the current client's schema, so
another client's ids simply do not exist here (404)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from chat.knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings


def get_settings() -> KnowledgeSettings:
    found = KnowledgeSettings.objects.order_by("pk").first()
    if found is None:
        found, _ = KnowledgeSettings.objects.get_or_create(pk=1)
    return found


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
