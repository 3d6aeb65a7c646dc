"""The admin pages and accessibility, in a real Chromium.

- axe-core runs on every page of a client's site (and the platform's security
  overview): no serious or critical violation;
- the admin pages fit a phone (390×844) and wide screens (1366, 1440): no
  horizontal scrolling, the key parts visible; screenshots go to
  test-output/<test name>/;
- the usage chart (vendored Chart.js) has axes, dates and one series per user;
  redaction counts read as labels ("E-mail addresses: 1");
- feedback review: filters and a link to the rated exchange;
- bot settings: the colour input shows the colour, Test connection tests what
  is typed (never saving it, never sending the platform key elsewhere);
- the cited-passage page's Back link and the footer's policy link stay in the
  workspace.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid

import pytest
from django.conf import settings
from django_tenants.utils import schema_context
from PIL import Image
from playwright.sync_api import expect

from chat.models import BotConfig, Message
from compliance.models import AuditRecord
from knowledge.models import KnowledgeChunk
from tenants.members.services import create_member
from tests.conftest import OUTPUT
from tests.e2e.conftest import browser, page  # noqa: F401 - shared Chromium fixtures
from tests.knowledge.helpers import upload, wait_until_finished
from tests.support.axe import axe_violations, blocking, describe
from tests.support.site import Site

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.com"
EMPLOYEE = "employee@example.com"
HANDBOOK = ("Travel policy\n\nEmployees book trains for trips under four hours. "
            "Hotel nights are refunded up to 150 euros in capitals.\n")


@pytest.fixture(scope="module")
def make_client_module(django_db_setup, django_db_blocker):
    """`make_client` for a whole module: the clients live until its last test."""
    from django.db import connection

    from tenants import services
    from tenants.models import Client

    created: list[str] = []

    def factory(prefix: str):
        slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
        with django_db_blocker.unblock():
            result = services.create_client(slug=slug, name=f"Client {slug}",
                                            admin_email=ADMIN, admin_password=PASSWORD,
                                            second_factor="off")
            connection.set_schema_to_public()
        created.append(slug)
        return result

    yield factory
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for client in Client.objects.filter(slug__in=created):
            services.delete_client(client=client)


@pytest.fixture(scope="module")
def workspace(make_client_module, django_db_blocker, web_server, celery_worker, model_server):
    """One client with an admin and an employee, a conversation whose question
    carried personal data (so the audit trail has redactions), a rated answer,
    a knowledge file, shared by the tests of this module."""
    with django_db_blocker.unblock():
        result = make_client_module("e2e-admin")
        schema = result.client.schema_name
        with schema_context(schema):
            create_member(email=EMPLOYEE, password=PASSWORD)
        base = web_server.url(result.domain.domain)
        employee = Site(base).login(EMPLOYEE, PASSWORD)
        employee.post("/compliance/notice/accept/")
        sent = employee.ask("Please write to jane.doe@example.com about the trip")
        employee.events(sent["answer"]["stream_url"])
        response = employee.post(f"/answers/{sent['answer']['id']}/feedback/",
                                 {"value": "-1", "comment": "Too short for the trip question"})
        assert response.status_code == 200, response.text
        admin = Site(base).login(ADMIN, PASSWORD)
        admin.post("/compliance/notice/accept/")
        mine = admin.ask("What does the travel policy say about hotels?")
        admin.events(mine["answer"]["stream_url"])
        admin.post(f"/answers/{mine['answer']['id']}/feedback/", {"value": "1"})
        uploaded = upload(admin, "handbook.txt", HANDBOOK.encode())
        assert uploaded.status_code == 201, uploaded.text
        assert wait_until_finished(admin, uploaded.json()["file"]["id"])["status"] == "ready"
        with schema_context(schema):
            chunk = KnowledgeChunk.objects.filter(file__conversation=None).first()
            assert AuditRecord.objects.exclude(redactions={}).exists()
        return {"result": result, "base": base, "schema": schema,
                "employee_conversation": sent["conversation_id"],
                "admin_conversation": mine["conversation_id"],
                "rated_answer": sent["answer"]["id"], "chunk": chunk.pk,
                "file": chunk.file_id}


def sign_in(page, base: str, email: str = ADMIN) -> None:  # noqa: F811
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator(".topbar")).to_contain_text(email)


def no_horizontal_overflow(page) -> None:  # noqa: F811
    sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, "
                          "inner: window.innerWidth})")
    assert sizes["scroll"] <= sizes["inner"], f"{page.url} scrolls sideways: {sizes}"


# --- axe-core on every page -------------------------------------------------------

def test_axe_finds_no_serious_violation_on_any_page(workspace, page, output_dir):  # noqa: F811
    base = workspace["base"]
    found: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        found[name] = axe_violations(page)

    # Anonymous pages.
    page.goto(base + "/accounts/login/")
    check("login")
    page.goto(base + "/accounts/password/reset/")
    check("password reset")
    page.goto(base + "/accounts/password/reset/sent/")
    check("password reset sent")
    page.goto(base + "/compliance/")
    check("overview (workspace, signed out)")
    page.goto(base + "/accounts/password/reset/MQ/not-a-token/")
    check("password reset link (invalid)")
    platform = f"http://{settings.BASE_DOMAIN}:{base.rsplit(':', 1)[1]}"
    page.goto(platform + "/compliance/")
    check("overview (platform)")
    page.goto(platform + "/")
    check("platform home")

    # A member's pages (the employee has accepted the data notice over HTTP).
    sign_in(page, base, EMPLOYEE)
    check("chat (new)")
    page.goto(f"{base}/c/{workspace['employee_conversation']}/")
    expect(page.locator(".msg.assistant").first).to_be_visible()
    check("chat (with messages)")
    page.goto(f"{base}/knowledge/passages/{workspace['chunk']}/")
    check("cited passage")
    page.goto(base + "/workspace-data/")
    check("your data")
    page.goto(base + "/compliance/")
    check("overview (workspace)")
    page.goto(base + "/accounts/password/")
    check("password change")
    page.goto(base + "/accounts/language/")
    check("language")
    page.goto(base + "/accounts/api-tokens/")
    check("API tokens")
    page.goto(base + "/api/")
    check("API docs")
    page.goto(base + "/no-such-page/")
    check("page not found")
    page.locator("form[action$='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r"/accounts/(logout|login)/"))
    check("signed out")
    page.context.clear_cookies()

    # An admin's pages.
    sign_in(page, base, ADMIN)
    for name, path in [
        ("bot settings", "/settings/bot/"),
        ("knowledge", "/knowledge/"),
        ("knowledge chunks", f"/knowledge/files/{workspace['file']}/chunks/"),
        ("feedback review", "/settings/feedback/"),
        ("feedback detail", f"/settings/feedback/{workspace['rated_answer']}/"),
        ("members", "/accounts/members/"),
        ("single sign-on", "/sso/settings/"),
        ("data controls", "/settings/data-controls/"),
        ("member data", "/settings/member-data/"),
        ("audit", "/settings/audit/"),
        ("API", "/settings/api/"),
    ]:
        page.goto(base + path)
        check(name)

    report = "\n".join(describe(name, v) for name, v in found.items() if v)
    (output_dir / "axe-report.txt").write_text(report or "no violations\n", encoding="utf-8")
    serious = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert not serious, "\n" + "\n".join(describe(n, v) for n, v in serious.items())
    assert page.js_errors == []


def test_axe_on_the_first_use_notice(make_client, web_server, page):  # noqa: F811
    result = make_client("e2e-notice")
    base = web_server.url(result.domain.domain)
    sign_in(page, base, ADMIN)
    expect(page.locator("#data-notice")).to_be_visible()
    violations = blocking(axe_violations(page))
    assert not violations, describe("data notice", violations)


# --- the pages fit phones and wide screens ------------------------------------------

PAGES = {
    "knowledge": ("/knowledge/", ["#files", "#dropzone"]),
    "bot-settings": ("/settings/bot/", ["#id_accent_color", "#test-connection"]),
    "audit": ("/settings/audit/", ["#usage-chart", "table.audit", "#audit-csv"]),
    "feedback": ("/settings/feedback/", ["table.feedback", "form.filters"]),
    "members": ("/accounts/members/", ["main table"]),
    "your-data": ("/workspace-data/", ["table.facts", "#export-my-data"]),
    "overview": ("/compliance/", ["main h1", "#download-pdf"]),
    "data-controls": ("/settings/data-controls/", ["main h1", "main form button[type=submit]"]),
    "member-data": ("/settings/member-data/", ["main h1", "main table"]),
    "single-sign-on": ("/sso/settings/", ["main h1"]),
    "language": ("/accounts/language/", ["main h1"]),
    "api": ("/settings/api/", ["main h1", "main form button[type=submit]"]),
    "api-tokens": ("/accounts/api-tokens/", ["main h1", "#id_name"]),
    "api-docs": ("/api/", ["main h1", "pre.api-example"]),
}


@pytest.mark.parametrize("width,height", [(390, 844), (1366, 768), (1440, 900)])
def test_admin_pages_fit_the_screen(workspace, browser, width, height,  # noqa: F811
                                    output_dir):
    from tests.support.csp import CspWatch

    watch = CspWatch()
    context = browser.new_context(viewport={"width": width, "height": height})
    watch.watch(context)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, workspace["base"], ADMIN)
        for name, (path, selectors) in PAGES.items():
            page.goto(workspace["base"] + path)
            page.wait_for_load_state("load")
            for selector in selectors:
                expect(page.locator(selector).first).to_be_visible()
            page.screenshot(path=output_dir / f"{name}-{width}x{height}.png", full_page=True)
            no_horizontal_overflow(page)
        # The audit table's cells stay inside their card.
        page.goto(workspace["base"] + "/settings/audit/")
        inside = page.evaluate("""() => {
          const card = document.querySelector('table.audit').closest('.card')
            .getBoundingClientRect();
          // Header cells too, unless a phone's layout hides the header row (1 px, clipped).
          const head = document.querySelector('table.audit thead').getBoundingClientRect();
          const cells = head.height > 1 ? 'table.audit td, table.audit th' : 'table.audit td';
          return [...document.querySelectorAll(cells)]
            .every((cell) => {
              const r = cell.getBoundingClientRect();
              return r.width === 0 || (r.left >= card.left - 1 && r.right <= card.right + 1);
            });
        }""")
        assert inside, "an audit cell sticks out of its card"
        assert errors == []
        watch.check()
    finally:
        context.close()


# --- audit: readable labels, a chart with axes, dates and users ---------------------

def test_audit_chart_and_labels(workspace, page, output_dir):  # noqa: F811
    sign_in(page, workspace["base"], ADMIN)
    page.goto(workspace["base"] + "/settings/audit/")
    table = page.locator("table.audit")
    expect(table).to_contain_text("E-mail addresses: 1")
    expect(table).not_to_contain_text("EMAIL_ADDRESS")
    chart = page.locator("#usage-chart")
    expect(chart).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('usage-chart')")
    shape = page.evaluate("""() => {
      const chart = Chart.getChart('usage-chart');
      return {labels: chart.data.labels, series: chart.data.datasets.map((d) => d.label),
              x: chart.options.scales.x.title.text, y: chart.options.scales.y.title.text,
              stacked: chart.options.scales.y.stacked};
    }""")
    assert shape["series"] == sorted(shape["series"]) or len(shape["series"]) >= 2
    assert {EMPLOYEE, ADMIN} <= set(shape["series"]), shape
    assert shape["x"] == "Day" and shape["y"] == "Tokens" and shape["stacked"]
    assert len(shape["labels"]) >= 1 and all(re.search(r"\d", label) for label in shape["labels"])
    # The same figures as a table, for screen readers and keyboard users.
    page.click("#usage-table summary")
    expect(page.locator("#usage-table table")).to_contain_text(EMPLOYEE)
    page.screenshot(path=output_dir / "audit.png", full_page=True)
    # Filtering by user narrows the chart to that user.
    page.select_option("select[name=user]", label=EMPLOYEE)
    page.click("form.filters button[type=submit]")
    page.wait_for_function("() => window.Chart && Chart.getChart('usage-chart')")
    series = page.evaluate("() => Chart.getChart('usage-chart').data.datasets.map((d) => d.label)")
    assert series == [EMPLOYEE]
    assert page.js_errors == []


def test_audit_in_korean_and_japanese_reads_labels(workspace, page):  # noqa: F811
    sign_in(page, workspace["base"], ADMIN)
    try:
        for language, label, axis in [("ko", "이메일 주소", "토큰"),
                                      ("ja", "メールアドレス", "トークン")]:
            page.goto(workspace["base"] + "/settings/audit/")
            page.select_option(".language-picker select", language)
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("table.audit")).to_contain_text(label)
            page.wait_for_function("() => window.Chart && Chart.getChart('usage-chart')")
            assert page.evaluate(
                "() => Chart.getChart('usage-chart').options.scales.y.title.text") == axis
    finally:  # the choice is the person's, kept in the database: undo it
        page.select_option(".language-picker select", "")
        expect(page.locator("html")).to_have_attribute("lang", "en")


# --- feedback review -------------------------------------------------------------------

def test_feedback_review_filters_and_links_to_the_exchange(workspace, live_db, page,  # noqa: F811
                                                          output_dir):
    sign_in(page, workspace["base"], ADMIN)
    page.goto(workspace["base"] + "/settings/feedback/")
    rows = page.locator("table.feedback tbody tr")
    expect(rows).to_have_count(2)
    page.select_option("select[name=rating]", "-1")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(EMPLOYEE)
    expect(rows.first).to_contain_text("Too short for the trip question")
    page.select_option("select[name=rating]", "")
    page.select_option("select[name=user]", label=ADMIN)
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("travel policy")
    page.fill("input[name=since]", "2001-01-01")
    page.fill("input[name=until]", "2001-01-02")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.feedback tbody")).to_contain_text("No feedback matches")
    page.goto(workspace["base"] + "/settings/feedback/?rating=-1")
    page.screenshot(path=output_dir / "feedback.png", full_page=True)
    page.locator("table.feedback a.exchange").first.click()
    rated = workspace['rated_answer']
    expect(page).to_have_url(re.compile(rf"/settings/feedback/{rated}/(\?.*)?$"))
    exchange = page.locator("main")
    expect(exchange).to_contain_text("Please write to jane.doe@example.com about the trip")
    expect(exchange).to_contain_text("Too short for the trip question")
    expect(exchange.locator(".msg.assistant")).to_have_count(1)
    page.screenshot(path=output_dir / "feedback-detail.png", full_page=True)
    # Only rated answers open here; a plain member is refused.
    with schema_context(workspace["schema"]):
        unrated = Message.objects.filter(role=Message.Role.ASSISTANT, feedback=None).first()
    response = page.goto(f"{workspace['base']}/settings/feedback/{unrated.pk}/"
                         if unrated else f"{workspace['base']}/settings/feedback/999999/")
    assert response.status == 404
    assert page.js_errors == []


# --- bot settings ------------------------------------------------------------------------

def test_colour_input_shows_the_colour(workspace, live_db, page, output_dir):  # noqa: F811
    sign_in(page, workspace["base"], ADMIN)
    page.goto(workspace["base"] + "/settings/bot/")
    colour = page.locator("#id_accent_color")
    page.evaluate("""() => { const input = document.getElementById('id_accent_color');
                            input.value = '#dc2626';
                            input.dispatchEvent(new Event('input', {bubbles: true})); }""")
    box = colour.bounding_box()
    assert box["height"] >= 28 and box["width"] >= 40, box
    colour.screenshot(path=output_dir / "colour.png")
    # The swatch's middle pixel is the chosen red.
    shot = Image.open(io.BytesIO(colour.screenshot())).convert("RGB")
    red, green, blue = shot.getpixel((shot.width // 2, shot.height // 2))
    assert red > 180 and green < 90 and blue < 90, (red, green, blue)
    expect(page.locator("#accent-color-value")).to_have_text("#dc2626")
    expect(page.locator("#accent-contrast")).to_have_text("Contrast with white text: 4.8:1.")

    # A colour too light for the white text drawn on it: said at once, refused on saving.
    page.evaluate("""() => { const input = document.getElementById('id_accent_color');
                            input.value = '#ffcc00';
                            input.dispatchEvent(new Event('input', {bubbles: true})); }""")
    expect(page.locator("#accent-contrast")).to_have_class("error")
    expect(page.locator("#accent-contrast")).to_contain_text("1.5:1, too light")
    page.click("main form.settings-form button[type=submit]")
    expect(page.locator(".field p.error").first).to_contain_text("contrast 1.5:1")
    with schema_context(workspace["schema"]):
        assert BotConfig.objects.get().accent_color != "#ffcc00"


def test_test_connection_uses_the_typed_values_without_saving(workspace, live_db, page,  # noqa: F811
                                                              model_server):
    model_server.reset()
    model_server.clear()
    sign_in(page, workspace["base"], ADMIN)
    page.goto(workspace["base"] + "/settings/bot/")
    result = page.locator("#test-result")

    # A model id the server does not know, typed and not saved: the test says so.
    page.fill("#id_model", "no-such-model")
    page.click("#test-connection")
    expect(result).to_have_class(re.compile("error"))
    with schema_context(workspace["schema"]):
        assert BotConfig.objects.get().model != "no-such-model"

    # A base URL of the workspace's own, typed without a key: refused before any
    # call (the platform key never goes to a URL the workspace chose).
    page.fill("#id_model", "gpt-4o-mini")
    model_server.clear()
    page.fill("#id_base_url", "http://127.0.0.1:9/v1")
    page.click("#test-connection")
    expect(result).to_have_class(re.compile("error"))
    expect(result).not_to_have_text("")
    assert model_server.requests() == []

    # A typed key with the platform endpoint: that key is used for this call only.
    page.fill("#id_base_url", "")
    page.fill("#id_api_key", "sk-typed-not-saved-1234")
    page.click("#test-connection")
    expect(result).to_have_class(re.compile("error"))  # the model server knows only its key
    typed = hashlib.sha256(b"sk-typed-not-saved-1234").hexdigest()
    keys = [r["api_key_sha256"] for r in model_server.requests()]
    assert keys and all(k == typed for k in keys), keys
    with schema_context(workspace["schema"]):
        config = BotConfig.objects.get()
        assert config.api_key_encrypted == "" and config.model != "no-such-model"

    # The saved settings (platform key): works.
    page.fill("#id_api_key", "")
    page.click("#test-connection")
    expect(result).to_have_class(re.compile(r"\bok\b"))
    assert page.js_errors == []
    # The typed key is in no log of ours (the web server's and the worker's).
    for log in OUTPUT.glob("*.log"):
        assert "sk-typed-not-saved-1234" not in log.read_text(errors="replace"), log


# --- links that stay in the workspace -------------------------------------------------

def test_passage_back_link_and_footer_link_stay_in_the_workspace(workspace, page):  # noqa: F811
    base = workspace["base"]
    sign_in(page, base, ADMIN)
    conversation = f"{base}/c/{workspace['admin_conversation']}/"
    page.goto(conversation)
    # The passage opened in a new tab, as the answer's citation link does.
    with page.context.expect_page() as opened:
        page.evaluate("""(url) => { const a = document.createElement('a'); a.href = url;
                                     a.target = '_blank'; a.rel = 'noopener';
                                     document.body.append(a); a.click(); a.remove(); }""",
                      f"/knowledge/passages/{workspace['chunk']}/")
    tab = opened.value
    tab.wait_for_load_state("load")
    expect(tab.locator(".passage-text")).to_contain_text("Hotel nights")
    tab.get_by_role("link", name=re.compile("Back")).click()
    expect(tab).to_have_url(conversation)
    tab.close()

    footer = page.locator("#training-link")
    expect(footer).to_have_attribute("href", "/compliance/")
    footer.click()
    expect(page).to_have_url(base + "/compliance/")
    expect(page.locator(".topbar .brand")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text(ADMIN)  # still signed in, in the workspace
