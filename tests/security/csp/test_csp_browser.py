"""In a real Chromium, every main page of both sites works under the
Content-Security-Policy with no violation: the `page` / `open_page` fixtures
fail the test on any (tests/support/csp.py). Each page's own script is
exercised too, since a blocked script would fail silently: an answer streams,
the data notice is accepted, the audit chart gets its bar heights, Test
connection answers, an upload reaches "ready", a confirm dialog guards a delete,
and the Django admin's own scripts run."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from knowledge.models import KnowledgeChunk
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD, log_in_admin_page, log_in_page
from tests.support.factories import BotConfigFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EMPLOYEE = "employee@example.com"
ACCENT = "#aa3377"


def watch_permissions_policy(page) -> list[str]:
    """Chromium reports a Permissions-Policy header it cannot parse on the console."""
    errors: list[str] = []
    page.on("console", lambda m: "Permissions-Policy" in m.text and errors.append(m.text))
    return errors


@pytest.fixture
def site(make_client):
    result = make_client("csp")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
        BotConfigFactory(accent_color=ACCENT)
    return result


def test_the_policy_blocks_inline_code_and_the_test_notices(site, web_server, page):
    """The guard itself: an injected inline script does not run, an inline
    style is not applied, and both are recorded as violations."""
    page.goto(web_server.url(site.domain.domain) + "/accounts/login/")
    page.evaluate("""() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.appendChild(s);
      document.body.insertAdjacentHTML(
        'beforeend', '<p id="styled" style="color: rgb(255, 0, 0)">x</p>');
    }""")
    assert page.evaluate("() => window.__inlineRan === undefined")
    assert page.evaluate("() => getComputedStyle(document.getElementById('styled')).color") \
        != "rgb(255, 0, 0)"
    page.csp.flush()
    kinds = " ".join(page.csp.violations)
    assert "script-src-elem" in kinds and "style-src-attr" in kinds, page.csp.violations
    page.csp.violations.clear()  # seen on purpose; anything else still fails the test


def test_anonymous_pages(site, web_server, page):
    base = web_server.url(site.domain.domain)
    pp_errors = watch_permissions_policy(page)
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("input[name=username]")).to_be_visible()
    page.goto(base + "/accounts/password/reset/")
    page.fill("input[name=email]", EMPLOYEE)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/sent/"))
    page.goto(base + "/no-such-page/")
    expect(page.locator("h1")).to_have_text("Not found")
    page.goto(web_server.url(f"nobody-here.{settings.BASE_DOMAIN}") + "/")
    expect(page.locator("h1")).to_have_text("No workspace here")
    # A form sent without its CSRF token: our own page, not Django's inline-styled one.
    page.goto(base + "/accounts/login/")
    page.evaluate("() => document.querySelector('[name=csrfmiddlewaretoken]').remove()")
    page.fill("input[name=username]", EMPLOYEE)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Your form could not be sent")
    assert pp_errors == []
    assert page.js_errors == []


def test_an_employee_chats_and_reads_their_data(site, web_server, celery_worker, model, page,
                                                output_dir):
    base = web_server.url(site.domain.domain)
    log_in_page(page, base, EMPLOYEE)
    # The bot's accent colour reaches the page through the CSSOM, not a <style>.
    page.wait_for_function(
        "(accent) => getComputedStyle(document.documentElement)"
        ".getPropertyValue('--accent').trim() === accent", arg=ACCENT)
    expect(page.locator("#send-button")).to_have_css("background-color", "rgb(170, 51, 119)")

    page.fill("#composer-text", "Hello under a strict policy")
    page.click("#send-button")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(answer.locator(".content")).to_contain_text("You said: Hello under a strict policy")
    expect(page.locator(".conversation-list li.active")).to_have_count(1)
    page.screenshot(path=output_dir / "chat.png", full_page=True)

    # A confirm dialog guards Delete (page.js): dismissed, nothing is deleted.
    page.reload()
    expect(page.locator(".msg.assistant .content")).to_contain_text("You said:")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(".chat-header button.danger")
    expect(page.locator(".msg.assistant")).to_have_count(1)

    page.goto(base + "/workspace-data/")
    expect(page.locator("table.facts")).to_contain_text("Redaction before the model")
    page.goto(base + "/compliance/")
    expect(page.locator("h1")).to_contain_text("will my data be used for training?")
    page.goto(base + "/accounts/password/")
    expect(page.locator("input[name=old_password]")).to_be_visible()
    assert page.js_errors == []


def test_a_tenant_admin_uses_every_settings_page(site, web_server, celery_worker, model,
                                                 open_page, output_dir):
    base = web_server.url(site.domain.domain)
    employee = open_page(timeout=30_000)
    log_in_page(employee, base, EMPLOYEE)
    employee.fill("#composer-text", "One call for the audit chart")
    employee.click("#send-button")
    expect(employee.locator(".msg.assistant").last).to_have_attribute(
        "data-status", "done", timeout=20_000)

    admin = open_page(timeout=30_000)
    pp_errors = watch_permissions_policy(admin)
    log_in_page(admin, base)

    admin.click(".topbar >> text=Bot settings")
    admin.click("#test-connection")
    result = admin.locator("#test-result")
    expect(result).to_have_class(re.compile(r"^(ok|error)$"))
    expect(result).not_to_have_text(re.compile(r"^(|Testing…)$"))

    admin.click(".topbar >> text=Knowledge")
    admin.set_input_files("#file-input", files=[
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Parking opens at six.\n"}])
    expect(admin.locator("#uploads li").first).to_have_attribute("data-state", "ready")
    row = admin.locator("tr.kfile", has_text="notes.txt")
    expect(row).to_have_count(1)
    admin.click("tr.kfile >> text=Text")
    expect(admin.locator("pre.pre-wrap").first).to_contain_text("Parking opens at six.")
    chunks_url = admin.url
    with schema_context(site.client.schema_name):
        chunk = KnowledgeChunk.objects.get(file__display_name="notes.txt")
    admin.goto(f"{base}/knowledge/passages/{chunk.pk}/")
    expect(admin.locator(".passage-text")).to_contain_text("Parking opens at six.")
    admin.click("a[data-back]")  # page.js: back in history, no javascript: URL
    expect(admin).to_have_url(chunks_url)

    admin.click(".topbar >> text=Audit")
    bars = admin.locator(".chart .bar")
    expect(bars.first).to_be_visible()
    heights = [box["height"] for box in (bars.nth(i).bounding_box() for i in range(bars.count()))]
    assert max(heights) > 100  # the busiest day fills the 120 px chart (audit.js)
    admin.screenshot(path=output_dir / "audit.png", full_page=True)

    for link, check in [("Feedback", "h1"), ("Members", "h1"), ("Data controls", "h1"),
                        ("Your data", "table.facts")]:
        admin.click(f".topbar >> text={link}")
        expect(admin.locator(check).first).to_be_visible()
    admin.goto(base + "/settings/member-data/")
    admin.once("dialog", lambda dialog: dialog.dismiss())
    admin.locator("tr", has_text=EMPLOYEE).locator("button", has_text="Erase data").click()
    expect(admin).to_have_url(re.compile(r"/settings/member-data/$"))
    assert pp_errors == []
    assert admin.js_errors == [] and employee.js_errors == []


def test_the_platform_site_and_its_admin(staff, web_server, page, output_dir):
    platform = web_server.url(settings.BASE_DOMAIN)
    pp_errors = watch_permissions_policy(page)
    page.goto(platform + "/")
    page.goto(platform + "/compliance/")
    expect(page.locator("h1")).to_contain_text("will my data be used for training?")

    log_in_admin_page(page, platform, staff.email)
    expect(page.locator("#site-name")).to_contain_text("TuneAIBot platform")
    # django-tenants' app list, styled from static/css/admin.css (was inline).
    app_table = page.locator("#content-main table.tenant-app-list").first
    expect(app_table).to_be_visible()
    assert page.evaluate("() => [...document.styleSheets].some(s => "
                         "(s.href || '').endsWith('/static/css/admin.css') && s.cssRules.length)")
    page.screenshot(path=output_dir / "admin-index.png", full_page=True)

    page.goto(platform + "/admin/tenants/client/")
    expect(page.locator("#result_list, #changelist-form").first).to_be_visible()
    # The admin's own scripts run: the nav sidebar toggles and the sidebar filter works.
    page.click("#toggle-nav-sidebar")
    expect(page.locator("#main")).not_to_have_class(re.compile(r"shifted"))
    page.goto(platform + "/admin/tenants/client/add/")
    expect(page.locator("input[name=admin_email]")).to_be_visible()
    page.goto(platform + "/admin/compliance/overviewsection/")
    expect(page.locator("#result_list")).to_contain_text("Use for training")
    page.click("#action-toggle")  # actions.js: select all, count shown
    expect(page.locator(".action-counter")).to_contain_text(re.compile(r"[1-9]\d* of \d+ selected"))
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator("input[name=_save]")).to_be_visible()
    change_url = page.url
    page.click("a.deletelink")
    expect(page.locator("input[type=submit]")).to_be_visible()
    page.click("a.cancel-link")  # cancel.js: back to the change form, nothing deleted
    expect(page).to_have_url(change_url)
    page.goto(platform + "/admin/members/user/add/")
    expect(page.locator("input[name=password1]")).to_be_visible()
    page.goto(platform + "/admin/password_change/")
    expect(page.locator("input[name=old_password]")).to_be_visible()
    assert pp_errors == []
    assert page.js_errors == []
