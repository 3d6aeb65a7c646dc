"""A new client's schema is an exact copy of the migrated template."""

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants.members.models import User

CATALOGUE = {
    "columns": """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, a.attidentity, a.attgenerated,
                         pg_get_expr(d.adbin, d.adrelid)
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0
                    AND NOT a.attisdropped""",
    "constraints": """SELECT c.relname, con.conname, con.contype,
                             replace(pg_get_constraintdef(con.oid), n.nspname || '.', '')
                      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s""",
    "indexes": """SELECT c.relname, replace(pg_get_indexdef(c.oid), n.nspname || '.', '')
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = %s AND c.relkind = 'i'""",
    "triggers": """SELECT t.tgname, c.relname FROM pg_trigger t
                   JOIN pg_class c ON c.oid = t.tgrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %s AND NOT t.tgisinternal""",
    "functions": """SELECT p.proname FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s""",
}


def catalogue(schema: str) -> dict[str, set]:
    result = {}
    with connection.cursor() as cursor:
        for part, query in CATALOGUE.items():
            cursor.execute(query, [schema])
            result[part] = set(cursor.fetchall())
    return result


def test_clone_matches_the_template_exactly(make_client):
    result = make_client("clone")
    template = catalogue(settings.TENANT_BASE_SCHEMA)
    clone = catalogue(result.client.schema_name)
    for part in CATALOGUE:
        assert clone[part] == template[part], part
    assert template["columns"] and template["constraints"] and template["indexes"]


def test_clone_carries_the_rows_and_new_rows_get_fresh_ids(make_client):
    result = make_client("rows")
    with connection.cursor() as cursor:
        for table in ("django_migrations", "django_content_type", "auth_permission"):
            cursor.execute(f'SELECT count(*) FROM "{settings.TENANT_BASE_SCHEMA}"."{table}"')
            expected = cursor.fetchone()[0]
            cursor.execute(f'SELECT count(*) FROM "{result.client.schema_name}"."{table}"')
            assert cursor.fetchone()[0] == expected > 0, table
    with schema_context(result.client.schema_name):
        first = User.objects.get(email="admin@example.com")
        second = User.objects.create_user("second@example.com", "a-long-password-1")
        assert second.pk == first.pk + 1


def test_migrations_see_a_clone_as_fully_migrated(make_client):
    result = make_client("migrated")
    call_command("migrate_schemas", schema_name=result.client.schema_name, tenant=True,
                 check_unapplied=True, verbosity=0)
