"""The security overview: content from the database, on the platform site and
every client's site, and the PDF made from the same content."""

import html as html_lib
import io

import pypdf
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from compliance.models import OverviewLink, OverviewReview, OverviewSection
from tests.support.accounts import log_in_client, signed_in_client
from tests.support.factories import BotConfigFactory, ConversationFactory, client_admin


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_platform_page_renders_sections_links_and_review_date_from_the_database(
        live_db, host_client):
    page = host_client(settings.BASE_DOMAIN).get("/compliance/")

    assert page.status_code == 200
    html = page.content.decode()
    for title in ["Use for training", "Storage and retention", "Scope of use",
                  "User responsibility", "Contract-based differences", "Summary"]:
        assert f">{title}</h2>" in html
    assert "1 March 2023" in html and "30 days" in html and "store=False" in html
    assert "<p>Since 1 March 2023, OpenAI does not use data" in html  # a paragraph
    assert "<li>Abuse-monitoring logs." in html  # a bullet
    assert "('text'" not in html
    links = list(OverviewLink.objects.filter(language="en").order_by("order"))
    assert len(links) == 6
    for link in links:
        assert f'href="{link.url}"' in html and html_lib.escape(link.name) in html
    assert "Last reviewed: 24 November 2026" in html
    assert "Download the Security Overview (PDF)" in html


def test_staff_edits_show_up_on_the_page_and_in_the_pdf(live_db, host_client):
    section = OverviewSection.objects.get(language="en", slug="summary")
    original_body, review = section.body, OverviewReview.objects.get(language="en")
    original_date = review.last_reviewed
    try:
        section.body = "- Edited by staff: nothing is used for training.\n" + original_body
        section.save()
        review.last_reviewed = original_date.replace(year=2027, month=1, day=2)
        review.save()
        browser = host_client(settings.BASE_DOMAIN)

        html = browser.get("/compliance/").content.decode()
        pdf = browser.get("/compliance/security-overview.pdf")

        assert "Edited by staff: nothing is used for training." in html
        assert "Last reviewed: 2 January 2027" in html
        assert pdf["Content-Type"] == "application/pdf"
        assert "Edited by staff: nothing is used for training." in pdf_text(pdf.content)
    finally:
        section.body = original_body
        section.save()
        review.last_reviewed = original_date
        review.save()


def test_platform_pdf_contains_the_policy_summary_and_links(live_db, host_client):
    response = host_client(settings.BASE_DOMAIN).get("/compliance/security-overview.pdf")

    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Summary" in text and "Use for training" in text
    assert "1 March 2023" in text
    assert "platform.openai.com/docs/guides/your-data" in text
    assert "Your workspace's settings" not in text


def test_client_pdf_appends_the_clients_live_settings(make_client, host_client):
    result = make_client("pdf")
    with schema_context(result.client.schema_name):
        from compliance import selectors, services

        services.update_data_controls(controls=selectors.get_data_controls(),
                                      conversation_retention_days=30,
                                      redaction_entities=["EMAIL_ADDRESS"])
    browser = host_client(result.domain.domain)

    # Nobody signed in: no client's live facts, only the way to the login page.
    anonymous = browser.get("/compliance/security-overview.pdf")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert b"gpt-4o-mini" not in anonymous.content

    log_in_client(browser)
    response = browser.get("/compliance/security-overview.pdf")

    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "1 March 2023" in text
    assert f"Your workspace's settings: {result.client.name}" in text
    assert "Deleted automatically 30 days after last use" in text
    assert "E-mail addresses" in text and "gpt-4o-mini" in text


def test_data_migration_seeds_only_the_platform(make_client):
    result = make_client("seed")
    assert OverviewSection.objects.filter(language="en").count() == 7
    with schema_context(result.client.schema_name):
        assert OverviewSection.objects.count() == 0
        assert OverviewLink.objects.count() == 0
    with schema_context(settings.TENANT_BASE_SCHEMA):
        assert OverviewSection.objects.count() == 0
    assert connection.schema_name == "public"


def test_client_site_overview_and_footer_link_stay_in_the_workspace(make_client, host_client):
    result = make_client("foot")
    browser = signed_in_client(result)

    chat = browser.get("/").content.decode()
    overview = browser.get("/compliance/").content.decode()

    assert "Will my data be used for training?" in chat
    # The footer's policy link stays on the client's own site (signed in, in
    # the workspace), not the platform host.
    assert 'href="/compliance/" id="training-link"' in chat
    assert f'href="http://{settings.BASE_DOMAIN}:{settings.SITE_PORT}/compliance/"' not in chat
    assert "Use for training" in overview and 'href="/compliance/security-overview.pdf"' in overview


def test_workspace_data_page_shows_live_facts(make_client, host_client):
    result = make_client("facts")
    with schema_context(result.client.schema_name):
        from compliance import selectors, services

        BotConfigFactory(model="my-model-7", base_url="https://llm.example.com/v1")
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      redaction_enabled=False, file_retention_days=7)
        ConversationFactory.create_batch(2, user=client_admin())
    browser = signed_in_client(result)

    html = browser.get("/workspace-data/").content.decode()

    assert "my-model-7" in html
    assert "Off: messages are sent as written" in html
    assert "Deleted automatically 7 days after last use" in html
    assert "Kept until deleted" in html  # conversations: forever
    assert "<th scope=\"row\">Stored conversations</th><td>2</td>" in html
    assert "Never run" in html


def test_staff_can_edit_the_overview_in_the_admin(staff, host_client):
    browser = host_client(settings.BASE_DOMAIN)
    browser.force_login(staff)
    section = OverviewSection.objects.get(language="en", slug="summary")
    listing = browser.get("/admin/compliance/overviewsection/")
    change = browser.get(f"/admin/compliance/overviewsection/{section.pk}/change/")
    assert listing.status_code == 200 and "Use for training" in listing.content.decode()
    assert change.status_code == 200
