"""What the knowledge tests share: a tenant admin's site that uploads files,
and reads of a client's knowledge tables."""

from __future__ import annotations

import time

from django_tenants.utils import schema_context

from knowledge import retrieval, vectors
from knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings
from tenants.models import Client
from tenants.services import client_media_root
from tests.support.site import Site


def upload(site: Site, name: str, data: bytes, path: str = "/knowledge/upload/"):
    return site.http.post(path, files={"file": (name, data)}, headers={
        "X-CSRFToken": site.csrf(), "Accept": "application/json"})


def wait_until_finished(site: Site, file_id: int, *, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = site.http.get("/knowledge/status/").json()["files"]
        [found] = [f for f in files if f["id"] == file_id]
        if found["status"] in ("ready", "failed"):
            return found
        time.sleep(0.2)
    raise AssertionError(f"file {file_id} did not finish: {found}")


def wait_until_minilm_embedded(site: Site, file_id: int, *, timeout: float = 120) -> dict:
    """Wait for the background task that adds a ready file's quality (multilingual) vectors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = site.http.get("/knowledge/status/").json()["files"]
        [found] = [f for f in files if f["id"] == file_id]
        if found["status"] == "ready" and found["minilm_chunks"] == found["chunks"]:
            return found
        time.sleep(0.2)
    raise AssertionError(f"file {file_id} got no multilingual vectors: {found}")


def snapshot(client: Client) -> dict:
    """Everything an upload may change in a client: rows, chunks, vectors, stored files."""
    with schema_context(client.schema_name):
        folder = client_media_root(client) / "knowledge"
        return {
            "files": sorted(KnowledgeFile.objects.values_list("id", "status", "chunk_count",
                                                              "generation")),
            "chunks": sorted(KnowledgeChunk.objects.values_list("id", flat=True)),
            "vectors": vectors.count(),
            "stored": sorted(p.name for p in folder.iterdir()) if folder.exists() else [],
        }


def find(client: Client, phrase: str, conversation_id: int | None = None) -> list[str]:
    """Texts of the chunks full-text search returns for `phrase` in this client."""
    with schema_context(client.schema_name):
        ids = retrieval.full_text_ids(query=phrase, conversation_id=conversation_id)
        chunks = KnowledgeChunk.objects.in_bulk(ids)
        return [chunks[i].text for i in ids]


def turn_semantic_search_on(site: Site, client: Client, provider: str = "api") -> bool:
    """Turn semantic search on with the embeddings API (or `provider`). True where
    the database has pgvector; on a server without it, checks that the admin is
    told why (and nothing was switched on) and returns False, so the caller
    checks the full-text path instead."""
    response = site.http.post("/knowledge/settings/", follow_redirects=True, data={
        "semantic_search": "on", "embedding_provider": provider,
        "csrfmiddlewaretoken": site.csrf()})
    with schema_context(client.schema_name):
        reason = vectors.unavailable_reason()
        enabled = KnowledgeSettings.objects.filter(semantic_search=True).exists()
    if reason is None:
        assert enabled
        return True
    assert not enabled
    assert "does not have the pgvector extension" in response.text or (
        "not installed in this database" in response.text)
    assert "Full-text search works" in response.text
    return False
