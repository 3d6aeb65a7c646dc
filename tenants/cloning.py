"""Fast schema cloning for new clients.

django-tenants' clone_schema() re-reads the whole catalogue on every call, so
its cost grows with the number of clients (about 4 s per client at 150). We
read the template schema once per process into a recipe of plain DDL (names
of tables, constraints, indexes and triggers kept exactly as migrations made
them) and replay it for each client, so a clone costs the same at client 1
and client 1,000.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import connection

_lock = threading.Lock()
_recipes: dict[str, Recipe] = {}


@dataclass(frozen=True)
class Recipe:
    signature: tuple
    functions: list[str]  # CREATE FUNCTION ..., with {schema} for the new schema
    tables: list[str]  # unqualified table names
    data: list[tuple[str, list[str], list[str]]]  # table, copied columns, identity columns
    constraints: list[str]  # ALTER TABLE ... ADD CONSTRAINT (keys, checks, then FKs)
    indexes: list[str]  # CREATE INDEX for indexes that back no constraint
    triggers: list[str]


def _signature(cursor, template: str) -> tuple:
    # Migrations change the template: the recipe is rebuilt when they do.
    table = _qualified(template, "django_migrations")
    cursor.execute(f"SELECT count(*), coalesce(max(id), 0) FROM {table}")  # noqa: S608
    return (template, *cursor.fetchone())


def _qualified(schema: str, name: str) -> str:
    return f'"{schema}"."{name}"'


def _placeholder(definition: str, template: str) -> str:
    """Where a definition names the template schema, name the new one instead
    (unqualified names resolve through the search_path set while cloning)."""
    return definition.replace(f'"{template}".', "{schema}.").replace(f"{template}.", "{schema}.")


def _build(cursor, template: str, signature: tuple) -> Recipe:
    cursor.execute("SELECT set_config('search_path', %s, true)", [f'"{template}"'])
    cursor.execute(
        """SELECT pg_get_functiondef(p.oid) FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s""",
        [template],
    )
    functions = [_placeholder(row[0], template) for row in cursor.fetchall()]
    cursor.execute(
        """SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname""",
        [template],
    )
    table_rows = cursor.fetchall()
    tables = [name for _oid, name in table_rows]
    data = []
    for oid, name in table_rows:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_qualified(template, name)})")  # noqa: S608
        if not cursor.fetchone()[0]:
            continue
        cursor.execute(
            """SELECT attname, attidentity <> '' FROM pg_attribute
               WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
               ORDER BY attnum""",
            [oid],
        )
        columns = cursor.fetchall()
        data.append((name, [c for c, _ in columns], [c for c, identity in columns if identity]))
    # Keys and checks before foreign keys, which need the keys they point at.
    cursor.execute(
        """SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'c', 'x', 'f')
           ORDER BY con.contype = 'f', c.relname, con.conname""",
        [template],
    )
    constraints = [
        f'ALTER TABLE {{schema}}."{table}" ADD CONSTRAINT "{name}" '
        + _placeholder(definition, template)
        for table, name, definition in cursor.fetchall()
    ]
    cursor.execute(
        """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s
             AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)""",
        [template],
    )
    indexes = [_placeholder(row[0], template) for row in cursor.fetchall()]
    cursor.execute(
        """SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND NOT t.tgisinternal""",
        [template],
    )
    triggers = [_placeholder(row[0], template) for row in cursor.fetchall()]
    return Recipe(signature, functions, tables, data, constraints, indexes, triggers)


def clone(*, template: str, schema: str) -> None:
    """Create `schema` as a copy of `template` (structure and rows), inside the
    current transaction."""
    quoted = f'"{schema}"'
    with connection.cursor() as cursor:
        signature = _signature(cursor, template)
        with _lock:
            recipe = _recipes.get(template)
            if recipe is None or recipe.signature != signature:
                recipe = _recipes[template] = _build(cursor, template, signature)
        cursor.execute(f"CREATE SCHEMA {quoted}")
        # Definitions below name objects without a schema: they land in the new one.
        cursor.execute("SELECT set_config('search_path', %s, true)", [f"{quoted}, public"])
        for definition in recipe.functions:
            cursor.execute(definition.replace("{schema}.", f"{quoted}."))
        for table in recipe.tables:
            cursor.execute(
                f'CREATE TABLE {quoted}."{table}" (LIKE {_qualified(template, table)} '
                "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE)"
            )
        for table, columns, identities in recipe.data:
            names = ", ".join(f'"{column}"' for column in columns)
            cursor.execute(
                f'INSERT INTO {quoted}."{table}" ({names}) OVERRIDING SYSTEM VALUE '  # noqa: S608
                f"SELECT {names} FROM {_qualified(template, table)}"
            )
            for column in identities:
                maximum = f'(SELECT max("{column}") FROM {quoted}."{table}")'  # noqa: S608
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), {maximum})",
                               [f'{quoted}."{table}"', column])
        for statement in recipe.constraints + recipe.indexes + recipe.triggers:
            cursor.execute(statement.replace("{schema}.", f"{quoted}."))
