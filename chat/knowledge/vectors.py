"""The pgvector table of chunk embeddings, spoken to in plain SQL.

The table exists only where the database had pgvector when migrations ran
(see migration 0003_knowledge); everything here first asks `unavailable_reason`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

TABLE = "chat_knowledgevector"


def unavailable_reason() -> str | None:
    """None when this client's schema can store embeddings; else a sentence why not."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        if cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        installed = cursor.fetchone() is not None
    if not installed:
        return (
            "Semantic search is unavailable: this platform's PostgreSQL server does not "
            "have the pgvector extension. Full-text search works as usual. The platform "
            "operator can install pgvector and run migrate_all to enable it."
        )
    return (
        "Semantic search is unavailable: pgvector was installed after this workspace's "
        "tables were created. The platform operator can run migrate_all to add them."
    )


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(value):.7g}" for value in vector) + "]"


def store(*, file_id: int, rows: Sequence[tuple[int, Sequence[float]]]) -> None:
    """Insert (chunk_id, embedding) rows of one file, replacing any earlier ones."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (chunk_id, file_id, embedding) VALUES (%s, %s, %s::vector) "  # noqa: S608
            "ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding",
            [(chunk_id, file_id, _literal(vector)) for chunk_id, vector in rows],
        )


def delete_for_file(*, file_id: int) -> None:
    if unavailable_reason() is None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE file_id = %s", [file_id])  # noqa: S608


def delete_all() -> None:
    if unavailable_reason() is None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608


def count(*, file_id: int | None = None) -> int:
    if unavailable_reason() is not None:
        return 0
    with connection.cursor() as cursor:
        if file_id is None:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608
        else:
            cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE file_id = %s", [file_id])  # noqa: S608
        return cursor.fetchone()[0]


def nearest(*, vector: Sequence[float], conversation_id: int | None, limit: int) -> list[int]:
    """Chunk ids closest to `vector` (cosine), from the library and this
    conversation's attachments only."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT v.chunk_id FROM {TABLE} v
            JOIN chat_knowledgefile f ON f.id = v.file_id
            WHERE f.conversation_id IS NULL OR f.conversation_id = %s
            ORDER BY v.embedding <=> %s::vector
            LIMIT %s
            """,  # noqa: S608
            [conversation_id, _literal(vector), limit],
        )
        return [row[0] for row in cursor.fetchall()]
