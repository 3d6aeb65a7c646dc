"""Seed the security overview (public schema only) and make the audit trail
append-only in every schema (a trigger refuses UPDATE and DELETE)."""

from django.db import migrations
from django_tenants.utils import get_public_schema_name

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION compliance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS compliance_auditrecord_append_only ON compliance_auditrecord;
CREATE TRIGGER compliance_auditrecord_append_only
    BEFORE UPDATE OR DELETE ON compliance_auditrecord
    FOR EACH ROW EXECUTE FUNCTION compliance_audit_append_only();
"""
REMOVE = """
DROP TRIGGER IF EXISTS compliance_auditrecord_append_only ON compliance_auditrecord;
"""


def seed(apps, schema_editor):
    # The app is installed in the public schema (platform content) and in every
    # client's; the overview belongs to the platform only.
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    from compliance import overview_content as content

    Section = apps.get_model("compliance", "OverviewSection")
    Link = apps.get_model("compliance", "OverviewLink")
    Review = apps.get_model("compliance", "OverviewReview")
    for section in content.SECTIONS:
        Section.objects.update_or_create(slug=section.slug, defaults={
            "title": section.title, "order": section.order, "body": section.body})
    for link in content.LINKS:
        Link.objects.update_or_create(url=link.url, defaults={
            "name": link.name, "description": link.description, "order": link.order})
    if not Review.objects.exists():
        Review.objects.create(last_reviewed=content.LAST_REVIEWED)


def unseed(apps, schema_editor):
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    for name in ("OverviewSection", "OverviewLink", "OverviewReview"):
        apps.get_model("compliance", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunSQL(APPEND_ONLY, REMOVE),
    ]
