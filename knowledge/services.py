"""Writes for knowledge files: upload (validate, store, enqueue), ingest,
re-index, delete, and the client's semantic-search switch."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_lazy

import llm
import llm.endpoints
from core.tasks import enqueue_on_commit
from knowledge import local_embeddings, multilingual, vectors
from knowledge import parsing as documents
from knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings
from knowledge.storage import stored_path, write_atomically
from llm import gateway
from tenants.db import current_schema

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
LOCAL_EMBED_BATCH = 256
# Quality-model vectors are stored (and their progress shown) this many at a time.
MINILM_STORE_BATCH = 64
PROGRESS_EVERY_SECONDS = 0.3


class KnowledgeError(Exception):
    """An action on knowledge files was refused; `message` says why, plainly."""

    def __init__(self, message: str, *, code: str = "refused", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def limits() -> documents.Limits:
    return documents.Limits(
        max_bytes=settings.KNOWLEDGE_MAX_UPLOAD_MB * documents.MB,
        max_pages=settings.KNOWLEDGE_MAX_PAGES,
        max_chars=settings.KNOWLEDGE_MAX_CHARS,
    )


# --- Why a file was refused, in the reader's language -------------------------------
# knowledge.parsing has no Django import and words its reasons in English with the
# file's own details. In another language the reason is one sentence per kind of
# problem, written for that language (a sentence assembled from English pieces
# would not read naturally).
_REJECTIONS = {
    documents.RejectionCode.UNSUPPORTED_TYPE: gettext_lazy(
        "We can't read this kind of file. Upload a PDF, Word (.docx), plain text, "
        "Markdown, CSV or HTML file."),
    documents.RejectionCode.EMPTY: gettext_lazy(
        "The file is empty. Check that you picked the right file and upload it again."),
    documents.RejectionCode.TOO_LARGE: gettext_lazy(
        "The file is larger than the %(mb)s MB limit. Split it into smaller files or "
        "remove images, then upload again."),
    documents.RejectionCode.CONTENT_MISMATCH: gettext_lazy(
        "The file's content does not match its name (for example a renamed file, or an "
        "older Word .doc saved as .docx). Upload the original file, or save it again in "
        "the right format."),
    documents.RejectionCode.NOT_TEXT: gettext_lazy(
        "This file is not readable text although its name says so. Upload the original "
        "document, or save it as UTF-8 text."),
    documents.RejectionCode.ENCRYPTED: gettext_lazy(
        "The file is password-protected. Save a copy without the password and upload that."),
    documents.RejectionCode.TRUNCATED: gettext_lazy(
        "The file is incomplete; it was probably cut off while uploading or downloading. "
        "Download the original again and re-upload it."),
    documents.RejectionCode.CORRUPT: gettext_lazy(
        "The file is damaged and can't be read. Open it on your computer, save a fresh "
        "copy, and upload that."),
    documents.RejectionCode.TOO_MANY_PAGES: gettext_lazy(
        "The document has more than %(pages)s pages, the limit for one file. Split it into "
        "smaller files and upload them separately."),
    documents.RejectionCode.TOO_MUCH_TEXT: gettext_lazy(
        "The file contains more than %(chars)s characters of text, the limit for one file. "
        "Split it into smaller files and upload them separately."),
    documents.RejectionCode.ARCHIVE_TOO_LARGE: gettext_lazy(
        "This Word file would expand to more than the size limit when opened. Remove large "
        "images or split the document, then upload it again."),
    documents.RejectionCode.TOO_MANY_ENTRIES: gettext_lazy(
        "This Word file has too many internal parts. Save it again from Word (which "
        "removes leftovers) or split it, then upload it again."),
    documents.RejectionCode.NO_TEXT: gettext_lazy(
        "The file contains no text we can use; a PDF may be a scan or a picture of text. "
        "Run it through OCR (text recognition), or upload the original document."),
    documents.RejectionCode.TOO_SLOW: gettext_lazy(
        "Reading this file took too long, so we stopped. Split it into smaller files, or "
        "save it again (for example “Save as PDF”) and re-upload."),
}


def rejection_reason(exc: documents.DocumentRejected) -> str:
    """The reason a file was refused, for the person in the active language."""
    template = _REJECTIONS.get(exc.code)
    if template is None or (translation.get_language() or "en").split("-")[0] == "en":
        return exc.reason  # the detailed English sentence of knowledge.parsing
    return str(template) % {
        "mb": settings.KNOWLEDGE_MAX_UPLOAD_MB, "pages": settings.KNOWLEDGE_MAX_PAGES,
        "chars": formats.number_format(settings.KNOWLEDGE_MAX_CHARS, force_grouping=True)}


# --- Storage: knowledge/storage.py ---------------------------------------------------


# --- Upload ---------------------------------------------------------------------------

class DuplicateFile(KnowledgeError):
    """The library already holds a file with the same content: keep it or replace it."""

    def __init__(self, existing: KnowledgeFile) -> None:
        super().__init__(
            gettext("This file is already in the library as “%(name)s” (same content). "
                    "Keep the existing file, or replace it with this upload.")
            % {"name": existing.display_name},
            code="duplicate", status=409)
        self.existing = existing


class OnDuplicate:
    """What an upload does when the library already holds the same content."""

    ASK = "ask"  # refuse with DuplicateFile, so the person can choose
    KEEP = "keep"  # keep the existing file; nothing new is stored
    REPLACE = "replace"  # the upload replaces the existing file (name, bytes, index)
    CHOICES = (ASK, KEEP, REPLACE)


@dataclass
class Uploaded:
    file: KnowledgeFile
    # "created", or for a duplicate in the library "kept" / "replaced".
    outcome: str = "created"


def upload(*, user, name: str, data: bytes | Path, conversation=None) -> KnowledgeFile:
    """Upload a file (see upload_with_outcome); a duplicate in the library is refused."""
    return upload_with_outcome(user=user, name=name, data=data, conversation=conversation).file


def upload_with_outcome(*, user, name: str, data: bytes | Path, conversation=None,
                        on_duplicate: str = OnDuplicate.ASK) -> Uploaded:
    """Validate, store under our own name, record, and queue for ingestion.

    Raises KnowledgeError with the reason when the file is refused; then
    nothing is stored and nothing else changes. A library upload whose content
    is already in the library raises DuplicateFile, or with `on_duplicate`
    keeps or replaces the existing entry: one entry per content, even for
    uploads that race (the database's unique hash decides which one wins).
    """
    if on_duplicate not in OnDuplicate.CHOICES:
        raise KnowledgeError(gettext("Choose whether to keep or replace the existing file."))
    try:
        kind = documents.validate(name=name, data=data, limits=limits())
    except documents.DocumentRejected as exc:
        raise KnowledgeError(rejection_reason(exc), code=exc.code.value) from exc
    payload = data.read_bytes() if isinstance(data, Path) else bytes(data)
    sha256 = hashlib.sha256(payload).hexdigest()
    display_name = documents.sanitize_display_name(name, max_length=200)
    in_library = conversation is None
    if in_library:
        existing = KnowledgeFile.objects.filter(library_sha256=sha256).first()
        if existing is not None:
            return _on_duplicate(existing, choice=on_duplicate, user=user,
                                 display_name=display_name, payload=payload)
    storage_name = f"{uuid.uuid4().hex}.{kind.value}"
    file = KnowledgeFile(
        conversation=conversation, uploaded_by=user, display_name=display_name,
        storage_name=storage_name, kind=kind.value, size_bytes=len(payload),
        sha256=sha256, library_sha256=sha256 if in_library else None,
    )
    path = stored_path(file)
    write_atomically(path, payload)
    try:
        with transaction.atomic():
            file.save()
            _enqueue_on_commit(file)
    except IntegrityError:
        path.unlink(missing_ok=True)
        # Another upload of the same content won the race a moment ago.
        existing = KnowledgeFile.objects.filter(library_sha256=sha256).first()
        if not in_library or existing is None:
            raise
        return _on_duplicate(existing, choice=on_duplicate, user=user,
                             display_name=display_name, payload=payload)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return Uploaded(file=file)


def _on_duplicate(existing: KnowledgeFile, *, choice: str, user, display_name: str,
                  payload: bytes) -> Uploaded:
    if choice == OnDuplicate.KEEP:
        return Uploaded(file=existing, outcome="kept")
    if choice == OnDuplicate.ASK:
        raise DuplicateFile(existing)
    return Uploaded(file=_replace(existing, user=user, display_name=display_name,
                                  payload=payload), outcome="replaced")


def _replace(existing: KnowledgeFile, *, user, display_name: str,
             payload: bytes) -> KnowledgeFile:
    """The upload takes the existing entry's place: its name, its stored bytes
    (the same content), and a fresh index (the old chunks are replaced when the
    new generation is ingested)."""
    write_atomically(stored_path(existing), payload)
    return _queue_again(existing, display_name=display_name, uploaded_by=user,
                        size_bytes=len(payload))


def _queue_again(file: KnowledgeFile, **changes) -> KnowledgeFile:
    """A new generation of `file` (with `changes` to its row), queued to be
    read once this commits; a worker still on the old generation stops."""
    with transaction.atomic():
        KnowledgeFile.objects.filter(pk=file.pk).update(
            generation=F("generation") + 1, status=KnowledgeFile.Status.QUEUED,
            progress_done=0, progress_total=0, error="", error_code="",
            updated=timezone.now(), **changes)
        file.refresh_from_db()
        _enqueue_on_commit(file)
    return file


def _enqueue_on_commit(file: KnowledgeFile) -> None:
    enqueue_on_commit("knowledge.ingest_file", file_id=file.pk, generation=file.generation)


def reindex(*, file: KnowledgeFile) -> KnowledgeFile:
    """Queue the file to be read and indexed again (safe to repeat)."""
    if not stored_path(file).exists():
        raise KnowledgeError(gettext("The original of this file is no longer stored, so it "
                                     "cannot be re-indexed. Delete it and upload it again."))
    return _queue_again(file)


def delete_file(*, file: KnowledgeFile) -> None:
    """Delete a file with its chunks, its vectors and its stored bytes."""
    with transaction.atomic():
        vectors.delete_for_file(file_id=file.pk)
        file.delete()  # the stored bytes go on commit (signals.remove_stored_bytes)


# --- Ingestion (runs in an ingest worker) ------------------------------------------

@dataclass
class _Progress:
    file_id: int
    generation: int
    last: float = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        KnowledgeFile.objects.filter(pk=self.file_id, generation=self.generation).update(
            progress_done=done, progress_total=total, updated=timezone.now())


def uploader_language(*, file_id: int) -> str:
    """The language to store this file's messages in (its uploader's, or the workspace's)."""
    from tenants.members.selectors import language_for

    file = KnowledgeFile.objects.select_related("uploaded_by").filter(pk=file_id).first()
    return language_for(user=file.uploaded_by if file else None,
                        tenant=getattr(connection, "tenant", None))


def ingest(*, file_id: int, generation: int) -> None:
    """Extract, chunk and index one file. Safe to run twice: the chunks are
    replaced in one transaction, and a task for an outdated request gives up."""
    claimed = KnowledgeFile.objects.filter(
        pk=file_id, generation=generation,
        status__in=[KnowledgeFile.Status.QUEUED, KnowledgeFile.Status.PROCESSING],
    ).update(status=KnowledgeFile.Status.PROCESSING, progress_done=0, progress_total=0,
             updated=timezone.now())
    if not claimed:
        return  # deleted, re-queued since, or already finished
    file = KnowledgeFile.objects.get(pk=file_id)
    try:
        sections = documents.read_document(
            name=f"x.{file.kind}", data=stored_path(file), limits=limits(),
            on_progress=_Progress(file_id=file.pk, generation=generation),
        )
        pieces = documents.chunk(sections, size=settings.KNOWLEDGE_CHUNK_CHARS,
                                 overlap=settings.KNOWLEDGE_CHUNK_OVERLAP)
    except documents.DocumentRejected as exc:
        _fail(file, generation, code=exc.code.value, reason=rejection_reason(exc))
        return
    except FileNotFoundError:
        _fail(file, generation, code="missing",
              reason=gettext("The stored file is missing. Delete it and upload it again."))
        return
    pages = {section.page for section in sections if section.page is not None}
    with transaction.atomic():
        current = KnowledgeFile.objects.select_for_update().filter(
            pk=file_id, generation=generation).first()
        if current is None:
            return
        vectors.delete_for_file(file_id=file_id)
        KnowledgeChunk.objects.filter(file_id=file_id).delete()
        KnowledgeChunk.objects.bulk_create(
            [KnowledgeChunk(file_id=file_id, index=piece.index, page=piece.page,
                            heading=piece.heading[:300], text=piece.text,
                            char_count=piece.char_count) for piece in pieces],
            batch_size=500,
        )
        current.chunk_count = len(pieces)
        current.embedded_chunks = 0
        current.minilm_chunks = 0
        current.page_count = max(pages) if pages else None
        current.save(update_fields=["chunk_count", "embedded_chunks", "minilm_chunks",
                                    "page_count", "updated"])
    refresh_term_statistics(added=len(pieces))
    note = embed_file(file_id=file_id, generation=generation)
    KnowledgeFile.objects.filter(pk=file_id, generation=generation).update(
        status=KnowledgeFile.Status.READY, error="", error_code="", embedding_note=note,
        indexed_at=timezone.now(), updated=timezone.now(),
        progress_done=F("progress_total"),
    )
    # Searchable now (full text + the fast vectors); the quality model's
    # vectors follow in the background.
    if not note and minilm_wanted():
        enqueue_on_commit("knowledge.ingest_minilm", file_id=file_id, generation=generation)


def requeue_missing_minilm() -> int:
    """Run per client by celery beat (with fail_stalled_files): a ready file
    still lacking quality-model vectors this long after it was last touched
    lost its task (a worker died, the broker was down); send it again. Its
    `updated` is bumped so the next sweep waits as long again. Before that,
    a quality table of another model (an upgrade changed the local model) is
    replaced at once (switch_quality_model). Returns the files sent."""
    if not minilm_wanted():
        return 0
    switched = switch_quality_model()
    cutoff = timezone.now() - timedelta(seconds=STALLED_AFTER_SECONDS)
    waiting = list(KnowledgeFile.objects.filter(
        status=KnowledgeFile.Status.READY, embedding_note="", updated__lt=cutoff,
        minilm_chunks__lt=F("chunk_count")).values_list("pk", "generation"))
    for file_id, generation in waiting:
        KnowledgeFile.objects.filter(pk=file_id).update(updated=timezone.now())
        enqueue_on_commit("knowledge.ingest_minilm", file_id=file_id, generation=generation)
    if waiting:
        logger.warning("%s knowledge file(s) in %s lacked quality-model vectors; task sent "
                       "again", len(waiting), current_schema())
    return len(waiting) + switched


def switch_quality_model() -> int:
    """When this client's quality-vector table holds another model's vectors
    (e.g. MiniLM's, from before issue 24), start again with the current one:
    drop the table, set every file's count back to 0 and queue every ready
    file's task. Search keeps working meanwhile (full text and WordLlama
    vectors; retrieval never mixes the two models: local_plan). The Knowledge
    page shows the progress ("Improving semantic search: N of M passages").
    Returns the files queued (0 when nothing was to switch)."""
    if not vectors.table_exists(vectors.MINILM_TABLE):
        return 0
    if vectors.table_model(vectors.MINILM_TABLE) == multilingual.MODEL_ID:
        return 0
    with transaction.atomic():
        vectors.lock(vectors.MINILM_TABLE)
        if vectors.table_model(vectors.MINILM_TABLE) == multilingual.MODEL_ID:
            return 0  # another worker switched it meanwhile
        vectors.ensure_table(dimensions=multilingual.DIMENSIONS, table=vectors.MINILM_TABLE,
                             model=multilingual.MODEL_ID)
        KnowledgeFile.objects.update(minilm_chunks=0)
        ready = list(KnowledgeFile.objects.filter(
            status=KnowledgeFile.Status.READY, embedding_note="", chunk_count__gt=0
        ).values_list("pk", "generation"))
        for file_id, generation in ready:
            enqueue_on_commit("knowledge.ingest_minilm", file_id=file_id, generation=generation)
    logger.info("Knowledge in %s: the quality vectors are recomputed with %s (%s file(s) "
                "queued)", current_schema(), multilingual.MODEL_NAME, len(ready))
    return len(ready)


# Below this many chunks, statistics are refreshed after every ingest (cheap);
# above it, when a file adds a noticeable share, else autovacuum's ANALYZE does.
ANALYZE_ALWAYS_BELOW = 50_000


def refresh_term_statistics(*, added: int) -> None:
    """Refresh the planner's statistics of the chunk table: full-text ranking
    reads how common each word is from them (pg_stats.most_common_elems), so a
    newly added file's words are weighed right from its first question."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'chat_knowledgechunk'::regclass")
        rows = max(0.0, float(cursor.fetchone()[0]))
        if rows < ANALYZE_ALWAYS_BELOW or added >= 0.05 * rows:
            cursor.execute("ANALYZE chat_knowledgechunk")


# Queued or processing this long with no progress: its task was lost or its
# worker died (longer than a redelivery plus the ingest time limit take).
STALLED_AFTER_SECONDS = getattr(settings, "KNOWLEDGE_STALLED_AFTER_SECONDS", 1800)


def fail_stalled_files() -> int:
    """Run per client by celery beat: a file nobody is indexing any more ends
    failed with a reason and a Re-index button (its stored original is kept)."""
    cutoff = timezone.now() - timedelta(seconds=STALLED_AFTER_SECONDS)
    stalled = KnowledgeFile.objects.filter(
        status__in=[KnowledgeFile.Status.QUEUED, KnowledgeFile.Status.PROCESSING],
        updated__lt=cutoff)
    count = stalled.update(
        status=KnowledgeFile.Status.FAILED, error_code="interrupted",
        error=gettext("Processing was interrupted before it finished (the service "
                      "restarted). Re-index the file to try again."),
        updated=timezone.now())
    if count:
        logger.warning("%s knowledge file(s) in %s had stalled; marked failed",
                       count, current_schema())
    return count


def _fail(file: KnowledgeFile, generation: int, *, code: str, reason: str) -> None:
    with transaction.atomic():
        updated = KnowledgeFile.objects.filter(pk=file.pk, generation=generation).update(
            status=KnowledgeFile.Status.FAILED, error_code=code, error=reason,
            chunk_count=0, embedded_chunks=0, minilm_chunks=0, updated=timezone.now())
        if updated:
            vectors.delete_for_file(file_id=file.pk)
            KnowledgeChunk.objects.filter(file_id=file.pk).delete()
            # Unusable: keep the reason, not the (possibly personal) content.
            path = stored_path(file)
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
    logger.info("Knowledge file %s failed: %s", file.pk, code)


# Where the client's saved model connection comes from (chat's BotConfig): set
# by chat's AppConfig.ready(), since knowledge sits below chat and never imports it.
_connection_source: Callable[[], llm.endpoints.ConnectionSettings] | None = None


def use_connection_source(source: Callable[[], llm.endpoints.ConnectionSettings]) -> None:
    """Tell knowledge how to read the client's model connection (called once, by chat)."""
    global _connection_source
    _connection_source = source


def _client_endpoint() -> llm.ModelEndpoint | None:
    """The client's endpoint for the embeddings API; None: no key (or no
    connection source registered, e.g. chat is not installed)."""
    if _connection_source is None:
        return None
    return llm.model_endpoint(_connection_source())


NO_EMBEDDINGS_KEY = gettext_lazy(
    "Semantic search is unavailable: no API key is configured, so there is no embeddings "
    "API to call. Add a key under Bot settings → Connection.")


def embedding_unavailable_reason() -> str | None:
    """Why embeddings cannot be made right now, or None."""
    from knowledge.selectors import get_settings

    reason = vectors.unavailable_reason()
    if reason:
        return reason
    if get_settings().embedding_provider == KnowledgeSettings.Provider.LOCAL:
        try:
            local_embeddings.verify()
        except local_embeddings.LocalModelMismatch:
            logger.exception("The local embedding model failed its SHA-256 check")
            return gettext("Semantic search is unavailable: the local embedding model's "
                           "files on this platform are not the ones this version was "
                           "tested with (package 'wordllama'). Full-text search works as "
                           "usual; the platform operator can reinstall the dependencies.")
        except local_embeddings.LocalModelMissing:
            return gettext("Semantic search is unavailable: the local embedding model is "
                           "not installed on this platform (package 'wordllama'). Full-text "
                           "search works as usual.")
        return None
    if not vectors.table_exists():
        return gettext("Semantic search is being set up; re-index this file to embed it.")
    if _client_endpoint() is None:
        return str(NO_EMBEDDINGS_KEY)
    return None


def embedding_dimensions(options: KnowledgeSettings) -> int:
    if options.embedding_provider == KnowledgeSettings.Provider.LOCAL:
        return local_embeddings.DIMENSIONS
    return int(settings.KNOWLEDGE_EMBEDDING_DIMENSIONS)


def embedding_text(*, file_name: str, heading: str, text: str) -> str:
    """What a chunk's embedding is computed from: the document's name (what the
    whole file is about), the section heading, the text."""
    title = Path(file_name).stem.replace("_", " ").replace("-", " ").strip()
    return "\n".join(part for part in (title, heading, text) if part)


def embed_file(*, file_id: int, generation: int | None = None) -> str:
    """Embed the file's chunks when the client has semantic search on: with the
    local model (nothing leaves the workspace) or the embeddings API, as the
    client chose.

    Returns "" or a sentence saying why the file has no embeddings.
    """
    from knowledge.selectors import get_settings

    options = get_settings()
    if not options.semantic_search:
        return ""
    reason = embedding_unavailable_reason()
    if reason:
        return reason
    local = options.embedding_provider == KnowledgeSettings.Provider.LOCAL
    if local and vectors.table_dimensions() != local_embeddings.DIMENSIONS:
        with transaction.atomic():
            vectors.ensure_table(dimensions=local_embeddings.DIMENSIONS)
    endpoint = None if local else _client_endpoint()
    model = options.embedding_model or settings.KNOWLEDGE_EMBEDDING_MODEL
    file_name = KnowledgeFile.objects.filter(pk=file_id).values_list(
        "display_name", flat=True).first() or ""
    chunks = list(KnowledgeChunk.objects.filter(file_id=file_id).order_by("index")
                  .values_list("id", "heading", "text"))
    done = 0
    batch_size = LOCAL_EMBED_BATCH if local else EMBED_BATCH
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start:start + batch_size]
        texts = [embedding_text(file_name=file_name, heading=heading, text=text)
                 for _, heading, text in batch]
        embeddings: np.ndarray | list[list[float]]
        if local:
            embeddings = local_embeddings.embed(texts)
        elif endpoint is None:  # the key was removed since the check above
            return str(NO_EMBEDDINGS_KEY)
        else:
            try:
                embeddings = gateway.embed(endpoint=endpoint, model=model, texts=texts)
            except gateway.GatewayError as exc:
                return gettext("Indexed for full-text search only: the embeddings call "
                               "failed.") + f" {exc.admin_message}"
        with transaction.atomic():
            still_current = KnowledgeFile.objects.filter(pk=file_id)
            if generation is not None:
                still_current = still_current.filter(generation=generation)
            if not still_current.select_for_update().exists():
                return ""
            try:
                with transaction.atomic():
                    vectors.store(file_id=file_id, rows=[
                        (chunk_id, vector) for (chunk_id, _, _), vector in zip(
                            batch, embeddings, strict=True)])
            except Exception as exc:  # wrong vector size for the column, say
                logger.warning("Storing embeddings of file %s failed: %s", file_id, exc)
                return gettext(
                    "Indexed for full-text search only: the embeddings could not be stored "
                    "(%(error)s; does model “%(model)s” return %(dimensions)s dimensions?)."
                ) % {"error": exc.__class__.__name__, "model": model,
                     "dimensions": settings.KNOWLEDGE_EMBEDDING_DIMENSIONS}
            done += len(batch)
            KnowledgeFile.objects.filter(pk=file_id).update(embedded_chunks=done)
    return ""


def embed_library() -> int:
    """Embed every ready file that lacks embeddings (after semantic search is
    enabled), then queue the quality-model vectors of those that lack them."""
    count = 0
    for file in KnowledgeFile.objects.filter(status=KnowledgeFile.Status.READY):
        if file.embedded_chunks >= file.chunk_count:
            continue
        note = embed_file(file_id=file.pk)
        KnowledgeFile.objects.filter(pk=file.pk).update(embedding_note=note)
        count += 1
    if minilm_wanted():
        for file_id, generation in KnowledgeFile.objects.filter(
                status=KnowledgeFile.Status.READY, embedding_note="",
                minilm_chunks__lt=F("chunk_count")).values_list("pk", "generation"):
            enqueue_on_commit("knowledge.ingest_minilm", file_id=file_id, generation=generation)
    return count


def minilm_wanted() -> bool:
    """Whether this client's files get the quality local model's vectors
    (knowledge.multilingual; the name is from MiniLM, which it replaced):
    semantic search on, with the local model, on a database with pgvector,
    and the model installed and intact (else WordLlama alone, logged once per
    process by multilingual.available)."""
    from knowledge.selectors import get_settings

    options = get_settings()
    return (options.semantic_search
            and options.embedding_provider == KnowledgeSettings.Provider.LOCAL
            and vectors.unavailable_reason() is None and multilingual.available())


def embed_file_minilm(*, file_id: int, generation: int) -> int:
    """Add the quality local model's vectors (knowledge.multilingual) to a ready file's chunks,
    in the background (the file is searchable already, with full text and
    WordLlama vectors; retrieval prefers these where present). Gives up when
    the file was deleted or re-indexed since; returns the chunks embedded."""
    if not minilm_wanted():
        return 0
    current = KnowledgeFile.objects.filter(pk=file_id, generation=generation,
                                           status=KnowledgeFile.Status.READY)
    file_name = current.values_list("display_name", flat=True).first()
    if file_name is None:
        return 0
    if vectors.table_model(vectors.MINILM_TABLE) != multilingual.MODEL_ID:
        if vectors.table_exists(vectors.MINILM_TABLE):
            switch_quality_model()  # another model's table: every file starts again
        else:
            with transaction.atomic():
                vectors.ensure_table(dimensions=multilingual.DIMENSIONS,
                                     table=vectors.MINILM_TABLE, model=multilingual.MODEL_ID)
    chunks = list(KnowledgeChunk.objects.filter(file_id=file_id).order_by("index")
                  .values_list("id", "heading", "text"))
    done = 0
    for start in range(0, len(chunks), MINILM_STORE_BATCH):
        batch = chunks[start:start + MINILM_STORE_BATCH]
        embeddings = multilingual.embed([embedding_text(file_name=file_name, heading=heading,
                                                  text=text) for _, heading, text in batch])
        with transaction.atomic():
            if not current.select_for_update().exists():
                return done  # deleted or re-indexed meanwhile: its chunks are gone
            ids = [chunk_id for chunk_id, _, _ in batch]
            if KnowledgeChunk.objects.filter(pk__in=ids).count() != len(ids):
                # Replaced by another run of the same ingest (a redelivered
                # task); that run queues the quality vectors of its own chunks.
                return done
            vectors.store(file_id=file_id, table=vectors.MINILM_TABLE, rows=[
                (chunk_id, vector) for (chunk_id, _, _), vector in zip(
                    batch, embeddings, strict=True)])
            done += len(batch)
            current.update(minilm_chunks=done)
    return done


def set_semantic_search(*, enabled: bool, provider: str = KnowledgeSettings.Provider.LOCAL,
                        embedding_model: str = "") -> KnowledgeSettings:
    """Turn semantic search on (embed the library with the chosen provider) or
    off (drop every vector). A change of provider replaces every vector."""
    from knowledge.selectors import get_settings

    if provider not in KnowledgeSettings.Provider.values:
        raise KnowledgeError(gettext("Choose where embeddings are computed: the local model "
                                     "or the embeddings API."))
    options = get_settings()
    unavailable = vectors.unavailable_reason()
    if enabled and unavailable:
        raise KnowledgeError(unavailable)
    with transaction.atomic():
        changed = (not options.semantic_search or options.embedding_provider != provider
                   or options.embedding_model != embedding_model.strip()[:200])
        options.semantic_search = enabled
        options.embedding_provider = provider
        options.embedding_model = embedding_model.strip()[:200]
        options.save()
        if enabled:
            if changed:  # other vectors (or none yet): start again with this model
                vectors.drop_table()
                vectors.drop_table(vectors.MINILM_TABLE)
                KnowledgeFile.objects.update(embedded_chunks=0, minilm_chunks=0,
                                             embedding_note="")
            vectors.ensure_table(dimensions=embedding_dimensions(options))
            enqueue_on_commit("knowledge.ingest_embed_library")
        else:
            vectors.drop_table()
            vectors.drop_table(vectors.MINILM_TABLE)
            KnowledgeFile.objects.update(embedded_chunks=0, minilm_chunks=0, embedding_note="")
    return options
