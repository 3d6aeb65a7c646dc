"""The chat page as an employee uses it in Chromium, on a phone (390×844) and a
wide screen (1440×900): layout, versions, code, the prompt library, keyboard
use, dark mode, and how fast a 500-message conversation opens. Screenshots and
measured figures go to the test's output directory (test-output/<test>/)."""

from __future__ import annotations

import json
import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Conversation, Message, Prompt
from tenants.members.models import User
from tenants.members.services import create_member

pytestmark = pytest.mark.browser

EMPLOYEE = "employee@example.com"
ADMIN = "admin@example.com"
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}

CODE_REPLY = """Here is the function:

```python
def greet(name):
    return f"Hello, {name}!"
```

| Day | Hours |
|-----|-------|
| Mon | 8 |
| Tue | 7 |
"""


@pytest.fixture
def site(make_client, web_server, celery_worker, model):
    result = make_client("ui")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    return result, web_server.url(result.domain.domain)


@pytest.fixture
def new_page(browser):
    """A page with the given viewport (and colour scheme), CSP-checked."""
    from tests.support.csp import CspWatch

    watch = CspWatch()

    def factory(viewport=WIDE, **options):
        context = browser.new_context(viewport=viewport, **options)
        watch.watch(context)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield factory
    try:
        watch.check()
    finally:
        for context in watch.contexts:
            context.close()


def log_in(page, base_url: str, email: str = EMPLOYEE) -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.get_by_role("button", name="I understand").click()
    expect(page.locator("#data-notice")).to_have_count(0)
    expect(page.locator("#composer-text")).to_be_visible()


def ask(page, text: str, status: str = "done"):
    answers = page.locator(".msg.assistant")
    before = answers.count()
    page.fill("#composer-text", text)
    page.click("#send-button")
    expect(answers).to_have_count(before + 1)
    answer = answers.last
    expect(answer).to_have_attribute("data-status", status, timeout=20_000)
    expect(page.locator("#composer-text")).to_have_value("")
    return answer


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""(sel) => {
      const r = document.querySelector(sel).getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight + 1 && r.left >= 0 && r.right <= innerWidth + 1;
    }""", selector)


def no_page_scroll(page) -> dict:
    return page.evaluate("""() => ({
      tall: document.scrollingElement.scrollHeight - innerHeight,
      wide: document.scrollingElement.scrollWidth - innerWidth,
    })""")


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390x844", "1440x900"])
def test_layout_fits_the_screen(site, new_page, model, output_dir, viewport):
    result, base_url = site
    page = new_page(viewport)
    model.configure(reply_text=CODE_REPLY + "\n\n" + "More words. " * 300)
    log_in(page, base_url)
    name = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=output_dir / f"{name}-1-new-chat.png")

    ask(page, "Show me some code")
    ask(page, "And once more")
    page.screenshot(path=output_dir / f"{name}-2-conversation.png")
    # The page itself never scrolls: the message list does, and the composer
    # stays in view, the latest message at the bottom.
    assert no_page_scroll(page) == {"tall": 0, "wide": 0}
    assert in_viewport(page, "#composer-text") and in_viewport(page, "#send-button")
    scroller = page.evaluate("""() => { const l = document.getElementById('messages');
      return {overflow: l.scrollHeight > l.clientHeight,
              atEnd: l.scrollHeight - l.scrollTop - l.clientHeight < 60}; }""")
    assert scroller == {"overflow": True, "atEnd": True}
    # Answers use the width: no column of letters.
    width = page.evaluate("document.querySelector('.msg.assistant .bubble').offsetWidth")
    assert width > viewport["width"] * 0.7 or width > 600

    sidebar = page.locator("#sidebar")
    toggle = page.locator("#sidebar-toggle")
    if viewport is PHONE:
        expect(sidebar).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(sidebar).to_be_visible()
        expect(page.locator(".conversation-group").first).to_have_text("Today")
        page.wait_for_timeout(300)  # the slide-in
        page.screenshot(path=output_dir / f"{name}-3-sidebar-open.png")
        page.keyboard.press("Escape")
        expect(sidebar).to_be_hidden()
        expect(toggle).to_be_focused()
        # The site menu folds behind a button, and opens.
        expect(page.locator("#site-nav")).to_be_hidden()
        page.click("#nav-toggle")
        expect(page.locator("#site-nav")).to_be_visible()
        page.screenshot(path=output_dir / f"{name}-4-menu-open.png")
        assert no_page_scroll(page)["wide"] == 0
        page.click("#nav-toggle")
    else:
        expect(sidebar).to_be_visible()
        toggle.click()  # wide screens can hide it too (remembered)
        expect(sidebar).to_be_hidden()
        page.reload()
        expect(sidebar).to_be_hidden()
        page.click("#sidebar-toggle")
        expect(sidebar).to_be_visible()

    # Deleting: the flash message sits above the conversation, not beside it.
    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".chat-header button.danger").click()
    flash = page.locator(".messages li.success")
    expect(flash).to_have_text("The conversation was deleted.")
    page.screenshot(path=output_dir / f"{name}-5-after-delete.png")
    box, chat = flash.bounding_box(), page.locator("#chat").bounding_box()
    assert box["x"] >= chat["x"] and box["width"] > chat["width"] * 0.8
    assert no_page_scroll(page) == {"tall": 0, "wide": 0}
    assert in_viewport(page, "#composer-text")
    assert page.js_errors == []


def test_the_list_follows_the_stream_unless_the_reader_scrolls_up(site, new_page, model,
                                                                  output_dir):
    _, base_url = site
    page = new_page(PHONE)
    log_in(page, base_url)
    model.configure(reply_text="Line of text.\n\n" * 60)
    ask(page, "Fill the screen")
    model.configure(reply_text="Word " * 200, token_delay=0.03)
    page.fill("#composer-text", "Now slowly")
    page.click("#send-button")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "streaming")
    expect(answer.locator(".thinking .when-streaming")).to_be_visible()
    page.wait_for_timeout(500)
    gap = """() => { const l = document.getElementById('messages');
                     return l.scrollHeight - l.scrollTop - l.clientHeight; }"""
    assert page.evaluate(gap) < 60, "following the stream"
    page.hover("#messages")
    page.mouse.wheel(0, -20_000)  # the reader scrolls up to read
    page.wait_for_timeout(300)
    where = page.evaluate("document.getElementById('messages').scrollTop")
    page.wait_for_timeout(600)
    assert page.evaluate(gap) > 500, "scrolled away from the end"
    assert page.evaluate("document.getElementById('messages').scrollTop") == where, "left alone"
    expect(page.locator("#jump-latest")).to_be_visible()
    page.screenshot(path=output_dir / "scrolled-up-while-streaming.png")
    page.click("#jump-latest")
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    assert page.evaluate(gap) < 60
    assert page.js_errors == []


def test_edit_regenerate_and_switch_versions(site, new_page, model, output_dir):
    result, base_url = site
    page = new_page(WIDE)
    log_in(page, base_url)
    ask(page, "Where is the office?")
    ask(page, "When does it open?")
    expect(page.locator(".versions")).to_have_count(0)

    # ↑ in the empty box edits the last message; Enter sends the new version.
    page.focus("#composer-text")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#editing-note")).to_be_visible()
    expect(page.locator("#composer-text")).to_have_value("When does it open?")
    page.fill("#composer-text", "When does it close?")
    page.keyboard.press("Enter")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(page.locator(".msg.user")).to_have_count(2)
    question = page.locator(".msg.user").last
    expect(question.locator(".version-count")).to_have_text("2 of 2")
    expect(answer.locator(".content")).to_have_text("You said: When does it close?")
    page.screenshot(path=output_dir / "1-edited.png")

    # Regenerate: the earlier answer stays as version 1.
    model.configure(reply_text="A second answer.")
    answer.locator(".act-regenerate").click()
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(answer.locator(".content")).to_have_text("A second answer.")
    expect(answer.locator(".version-count")).to_have_text("2 of 2")

    answer.locator(".version-prev").click()
    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".content")).to_have_text("You said: When does it close?")
    expect(answer.locator(".version-count")).to_have_text("1 of 2")
    page.locator(".msg.user").last.locator(".version-prev").click()
    expect(page.locator(".msg.user").last.locator(".bubble")).to_have_text("When does it open?")
    expect(page.locator(".msg.user").last.locator(".version-count")).to_have_text("1 of 2")
    expect(page.locator(".msg.assistant").last.locator(".content")).to_have_text(
        "You said: When does it open?")
    page.screenshot(path=output_dir / "2-back-to-version-1.png")
    with schema_context(result.client.schema_name):
        assert Message.objects.count() == 7  # 3 questions, 4 answers: nothing lost
    assert page.js_errors == []


def test_code_tables_times_and_copy(site, new_page, model, output_dir):
    _, base_url = site
    page = new_page(WIDE, permissions=["clipboard-read", "clipboard-write"])
    model.configure(reply_text=CODE_REPLY)
    log_in(page, base_url)
    answer = ask(page, "Code please")
    for _moment in ("live", "reloaded"):
        expect(answer.locator("pre code.language-python .tok-k").first).to_have_text("def")
        expect(answer.locator(".table-wrap table td").first).to_have_text("Mon")
        expect(answer.locator(".code-lang")).to_have_text("python")
        expect(page.locator(".msg time")).to_have_count(2)
        label = page.locator(".msg.user time").text_content()
        assert re.search(r"\d", label), label
        page.reload()
        answer = page.locator(".msg.assistant").last
    answer.locator(".copy-code").click()
    expect(answer.locator(".copy-code")).to_contain_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == 'def greet(name):\n    return f"Hello, {name}!"'
    page.screenshot(path=output_dir / "code-and-table.png")
    # Icons are SVG, no emoji.
    expect(answer.locator(".act-feedback svg use")).to_have_count(2)
    assert "👍" not in page.content()
    assert page.js_errors == []


def test_keyboard_only(site, new_page, model, output_dir):
    _, base_url = site
    page = new_page(WIDE)
    log_in(page, base_url)
    page.focus("#composer-text")
    page.keyboard.type("Hello there")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.assistant").last).to_have_attribute("data-status", "done",
                                                                  timeout=20_000)
    # Esc stops an answer being written; "Thinking…" shows until text comes.
    model.configure(first_token_delay=1.5, token_delay=0.1, reply_tokens=100)
    page.keyboard.type("Write a long story")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.assistant")).to_have_count(2)
    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".thinking .when-pending")).to_be_visible()
    expect(answer.locator(".thinking .when-pending")).to_have_text("Thinking…")
    page.screenshot(path=output_dir / "1-thinking.png")
    expect(answer).to_have_attribute("data-status", "streaming", timeout=10_000)
    page.keyboard.press("Escape")
    expect(answer).to_have_attribute("data-status", "cancelled", timeout=10_000)
    expect(answer.locator(".thinking")).to_be_hidden()

    # Ctrl+K: search; Ctrl+Shift+O: a new chat.
    page.keyboard.press("Control+k")
    expect(page.locator("#conversation-search")).to_be_focused()
    page.keyboard.type("Hello")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=Hello$"))
    page.wait_for_load_state("load")
    expect(page.locator(".conversation-list a")).to_have_count(1)
    page.keyboard.press("Control+Shift+O")
    expect(page).to_have_url(base_url + "/")
    expect(page.locator(".welcome")).to_be_visible()

    # Tab reaches the answer's buttons, and they work with the keyboard.
    page.goto(base_url + "/")
    page.locator(".conversation-list a").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    page.wait_for_load_state("load")
    good = page.locator(".msg.assistant").first.locator(".act-feedback").first
    good.focus()
    expect(good).to_be_focused()
    page.keyboard.press("Enter")
    expect(good).to_have_attribute("aria-pressed", "true")
    assert page.js_errors == []


def test_dark_mode_follows_the_system_and_the_toggle_is_saved(site, new_page, output_dir):
    _, base_url = site
    page = new_page(PHONE, color_scheme="dark")
    log_in(page, base_url)
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    assert dark == "rgb(21, 23, 28)"
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=output_dir / "1-dark-from-system.png")
    page.click("#theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == "rgb(247, 247, 248)"
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "false")
    page.screenshot(path=output_dir / "2-light-by-toggle.png")
    assert page.js_errors == []


def test_prompt_library_from_admin_page_to_composer(site, new_page, output_dir):
    result, base_url = site
    admin = new_page(WIDE)
    log_in(admin, base_url, ADMIN)
    admin.click(".topbar >> text=Prompt library")
    expect(admin.locator("h1")).to_have_text("Prompt library")
    for title, text in (("Weekly report", "Write my weekly report from these notes:"),
                        ("Translate", "Translate into Japanese:"),
                        ("Old one", "Remove me")):
        admin.fill("#id_title", title)
        admin.fill("#id_text", text)
        admin.click("text=Add prompt")
        expect(admin.locator(".messages")).to_have_text("Prompt added.")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Delete “Old one”").click()
    expect(admin.locator(".prompt-admin-list li")).to_have_count(2)
    admin.get_by_role("link", name="Edit “Translate”").click()
    admin.fill("#id_text", "Translate into Korean:")
    admin.click("text=Save prompt")
    expect(admin.locator(".prompt-admin-list")).to_contain_text("Translate into Korean:")
    admin.screenshot(path=output_dir / "1-admin-library.png", full_page=True)

    employee = new_page(PHONE)
    log_in(employee, base_url)
    expect(employee.locator(".library-prompt")).to_have_count(2)
    employee.screenshot(path=output_dir / "2-new-chat-suggestions.png")
    employee.locator(".library-prompt", has_text="Weekly report").click()
    expect(employee.locator("#composer-text")).to_have_value(
        "Write my weekly report from these notes:")
    expect(employee.locator("#composer-text")).to_be_focused()
    # "/" opens the list; typing filters it; arrows and Enter pick.
    employee.fill("#composer-text", "")
    employee.keyboard.type("/")
    menu = employee.locator("#prompt-menu")
    expect(menu).to_be_visible()
    expect(menu.locator("[role=option]")).to_have_count(2)
    employee.keyboard.type("tra")
    expect(menu.locator("[role=option]")).to_have_count(1)
    employee.screenshot(path=output_dir / "3-slash-menu.png")
    employee.keyboard.press("Enter")
    expect(menu).to_be_hidden()
    expect(employee.locator("#composer-text")).to_have_value("Translate into Korean:")
    with schema_context(result.client.schema_name):
        assert sorted(Prompt.objects.values_list("title", flat=True)) == [
            "Translate", "Weekly report"]
    assert admin.js_errors == [] and employee.js_errors == []


def make_long_conversation(result, *, turns: int) -> int:
    """A conversation of 2×turns messages, written as the send path writes them."""
    with schema_context(result.client.schema_name):
        user = User.objects.get(email=EMPLOYEE)
        conversation = Conversation.objects.create(user=user, title="A long conversation")
        parent = None
        for n in range(turns):
            question = Message.objects.create(conversation=conversation, role="user",
                                              content=f"Question {n}: what about item {n}?",
                                              parent=parent)
            parent = Message.objects.create(
                conversation=conversation, role="assistant", reply_to=question, parent=question,
                status="done", model="gpt-4o-mini", latency_ms=900, completion_tokens=60,
                content=(f"Answer {n}. Some **bold** text and a list:\n\n- one\n- two\n\n"
                         + (f"```python\nprint('item {n}')\n```\n" if n % 10 == 0 else "")
                         + "A longer paragraph of ordinary words. " * 6))
        return conversation.pk


PAINT_FIGURES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = Object.fromEntries(
    performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
  const list = document.getElementById('messages');
  const last = list.querySelector('.msg:last-child').getBoundingClientRect();
  const box = list.getBoundingClientRect();
  return {
    server_ms: nav.responseStart - nav.requestStart,
    html_received_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    load_ms: nav.loadEventEnd,
    first_contentful_paint_ms: paint['first-contentful-paint'],
    latest_shown_ms: window.__latestShownAt,
    html_kb: Math.round(nav.transferSize / 1024),
    messages: list.querySelectorAll('.msg').length,
    latest_in_view: last.bottom <= box.bottom + 2 && last.top >= box.top - 2,
  };
}"""
# Record when the latest message is first on screen (one frame after load).
LATEST_SHOWN = """() => {
  const check = () => {
    const list = document.getElementById('messages');
    const last = list && list.querySelector('.msg:last-child');
    if (last) {
      const r = last.getBoundingClientRect(), box = list.getBoundingClientRect();
      if (r.bottom <= box.bottom + 2 && r.bottom > box.top) {
        window.__latestShownAt = performance.now();
        return;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}"""


def test_a_500_message_conversation_opens_at_the_latest_message(site, new_page, output_dir):
    result, base_url = site
    conversation_id = make_long_conversation(result, turns=250)
    page = new_page(WIDE)
    log_in(page, base_url)
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', {LATEST_SHOWN})")
    runs = []
    for _ in range(3):
        page.goto(f"{base_url}/c/{conversation_id}/")
        page.wait_for_function("() => window.__latestShownAt !== undefined")
        runs.append(page.evaluate(PAINT_FIGURES))
    figures = runs[-1]
    assert figures["messages"] == 500
    expect(page.locator("#messages > .msg").last).to_be_in_viewport()
    expect(page.locator(".msg.assistant").last.locator(".content")).to_contain_text("Answer 249.")
    page.screenshot(path=output_dir / "500-messages.png")
    (output_dir / "paint.json").write_text(json.dumps(runs, indent=2))
    print("500-message conversation, Chromium:", json.dumps(figures))
    assert page.js_errors == []
