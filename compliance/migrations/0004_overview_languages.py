"""The security overview in several languages: every content row and the review
date belong to one language. Existing rows stay English ("en"); the Korean and
Japanese versions are seeded from compliance.overview_content_ko / _ja (public
schema only, like the English seed in 0002)."""

from django.db import migrations, models
from django_tenants.utils import get_public_schema_name

LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語")]
SEEDED = ("ko", "ja")


def seed(apps, schema_editor):
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    from compliance.overview_versions import VERSIONS

    Section = apps.get_model("compliance", "OverviewSection")
    Link = apps.get_model("compliance", "OverviewLink")
    Review = apps.get_model("compliance", "OverviewReview")
    for language in SEEDED:
        version = VERSIONS[language]
        for section in version.sections:
            Section.objects.update_or_create(language=language, slug=section.slug, defaults={
                "title": section.title, "order": section.order, "body": section.body})
        for link in version.links:
            Link.objects.update_or_create(language=language, url=link.url, defaults={
                "name": link.name, "description": link.description, "order": link.order})
        Review.objects.get_or_create(language=language,
                                     defaults={"last_reviewed": version.last_reviewed})


def unseed(apps, schema_editor):
    if schema_editor.connection.schema_name != get_public_schema_name():
        return
    for name in ("OverviewSection", "OverviewLink", "OverviewReview"):
        apps.get_model("compliance", name).objects.filter(language__in=SEEDED).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0003_audit_signed_with_hmac"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="overviewlink",
            options={"ordering": ["language", "order", "id"]},
        ),
        migrations.AlterModelOptions(
            name="overviewsection",
            options={"ordering": ["language", "order", "id"]},
        ),
        migrations.AddField(
            model_name="overviewlink",
            name="language",
            field=models.CharField(choices=LANGUAGES, db_index=True, default="en",
                                   help_text="Which language version of the overview this "
                                             "belongs to.", max_length=8),
        ),
        migrations.AddField(
            model_name="overviewreview",
            name="language",
            field=models.CharField(choices=LANGUAGES, default="en", max_length=8, unique=True),
        ),
        migrations.AddField(
            model_name="overviewsection",
            name="language",
            field=models.CharField(choices=LANGUAGES, db_index=True, default="en",
                                   help_text="Which language version of the overview this "
                                             "belongs to.", max_length=8),
        ),
        migrations.AlterField(
            model_name="overviewsection",
            name="slug",
            field=models.SlugField(max_length=60),
        ),
        migrations.AddConstraint(
            model_name="overviewsection",
            constraint=models.UniqueConstraint(fields=("language", "slug"),
                                               name="overview_section_slug_per_language"),
        ),
        migrations.RunPython(seed, unseed),
    ]
