"""The pgvector table of chunk embeddings, spoken to in plain SQL.

pgvector is optional: migration 0003_knowledge installs the extension where
the server has it. Each client's table (with its HNSW cosine index) is created
when a tenant admin enables semantic search, and dropped when they disable it.

Two tables: TABLE holds the vectors a file gets while it is ingested (the
fast local model, WordLlama, or the embeddings API), MINILM_TABLE the local
quality model's (knowledge.multilingual, 512 dimensions; the table's name is
from MiniLM, the model it replaced), added by a background task after the
file is ready; retrieval prefers a passage's quality vector when it has one.
The quality table's comment names the model whose vectors it holds
(table_model), so a change of model is noticed even at the same size.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext

TABLE = "chat_knowledgevector"
MINILM_TABLE = "chat_knowledgevector_minilm"
TABLES = (TABLE, MINILM_TABLE)
# Each table's index names (an index name is unique within the schema).
_INDEXES = {TABLE: ("kvector_file", "kvector_hnsw"),
            MINILM_TABLE: ("kvector_minilm_file", "kvector_minilm_hnsw")}


def unavailable_reason() -> str | None:
    """None when this database can store embeddings; else a sentence why not."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is not None:
            return None
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        offered = cursor.fetchone() is not None
    if not offered:
        return gettext(
            "Semantic search is unavailable: this platform's PostgreSQL server does not "
            "have the pgvector extension. Full-text search works as usual. The platform "
            "operator can install pgvector on the server and run migrate_all to enable it."
        )
    return gettext(
        "Semantic search is unavailable: the pgvector extension is on the server but not "
        "installed in this database. The platform operator can run migrate_all (as a "
        "user allowed to create extensions) to enable it."
    )


def table_exists(table: str = TABLE) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return bool(cursor.fetchone()[0])


def table_dimensions(table: str = TABLE) -> int | None:
    """The dimensions of this client's vector table, or None when it has none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(%s) AND a.attname = 'embedding'", [table])
        row = cursor.fetchone()
    if row is None:
        return None
    digits = "".join(c for c in row[0] if c.isdigit())
    return int(digits) if digits else None


def table_model(table: str = MINILM_TABLE) -> str | None:
    """The model named in the table's comment (None: no table, or no comment)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [table])
        row = cursor.fetchone()
    return row[0] if row else None


def lock(table: str) -> None:
    """Serialise changes of this client's `table` until the transaction ends
    (callers hold one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || %s))",
                       [":" + table])


def ensure_table(*, dimensions: int | None = None, table: str = TABLE,
                 model: str | None = None) -> None:
    """Create this client's vector table and HNSW (cosine) index if missing; a
    table of another size (the client switched embedding model), or of
    another `model` when one is named, is replaced."""
    dimensions = int(dimensions or settings.KNOWLEDGE_EMBEDDING_DIMENSIONS)
    # Two ingest workers may both find the table missing; one creates it.
    lock(table)
    existing = table_dimensions(table)
    if existing is not None and (existing != dimensions
                                 or (model is not None and table_model(table) != model)):
        drop_table(table)
    file_index, hnsw_index = _INDEXES[table]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {table} (
                chunk_id bigint PRIMARY KEY
                    REFERENCES chat_knowledgechunk (id) ON DELETE CASCADE,
                file_id bigint NOT NULL
                    REFERENCES chat_knowledgefile (id) ON DELETE CASCADE,
                embedding public.vector({dimensions}) NOT NULL
            )
            """
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {file_index} ON {table} (file_id)")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index} ON {table} "
            "USING hnsw (embedding public.vector_cosine_ops)"
        )
        if model is not None:
            cursor.execute(f"COMMENT ON TABLE {table} IS %s", [model])


def drop_table(table: str = TABLE) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(value):.7g}" for value in vector) + "]"


def store(*, file_id: int, rows: Sequence[tuple[int, Sequence[float]]],
          table: str = TABLE) -> None:
    """Insert (chunk_id, embedding) rows of one file, replacing any earlier ones."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (chunk_id, file_id, embedding) VALUES (%s, %s, %s::vector) "  # noqa: S608
            "ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding",
            [(chunk_id, file_id, _literal(vector)) for chunk_id, vector in rows],
        )


def delete_for_file(*, file_id: int) -> None:
    """Delete the file's vectors from both tables."""
    for table in TABLES:
        if table_exists(table):
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE file_id = %s", [file_id])  # noqa: S608


def count(*, file_id: int | None = None, table: str = TABLE) -> int:
    if not table_exists(table):
        return 0
    with connection.cursor() as cursor:
        if file_id is None:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        else:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE file_id = %s", [file_id])  # noqa: S608
        return cursor.fetchone()[0]


def similar_chunks(*, vector: Sequence[float], conversation_id: int | None, limit: int,
                   also: Sequence[int] = (), table: str = TABLE) -> dict[int, float]:
    """Cosine similarity of the `limit` nearest chunks (library and this
    conversation's attachments) and of the chunks `also` names, in one query."""
    literal = _literal(vector)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            (SELECT v.chunk_id, 1 - (v.embedding <=> %s::vector) FROM {table} v
             JOIN chat_knowledgefile f ON f.id = v.file_id
             WHERE f.conversation_id IS NULL OR f.conversation_id = %s
             ORDER BY v.embedding <=> %s::vector
             LIMIT %s)
            UNION
            (SELECT chunk_id, 1 - (embedding <=> %s::vector) FROM {table}
             WHERE chunk_id = ANY(%s))
            """,  # noqa: S608
            [literal, conversation_id, literal, limit, literal, list(also)],
        )
        return {row[0]: float(row[1]) for row in cursor.fetchall()}
