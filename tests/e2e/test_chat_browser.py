"""An employee chats in a real Chromium: through the real web server, worker,
Redis and the local model server. Proves tokens reach the page while the answer
is still being written, that a reload resumes the stream, and that model output
never runs as markup."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from chat.models import Message
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD, log_in_page

pytestmark = pytest.mark.browser

EMPLOYEE = "employee@example.com"
TOKENS = 40  # at 0.05 s a token: an answer of about 2 s

# The newest answer on the page, read in one go so status and text agree.
LAST_ANSWER = """() => {
  const all = document.querySelectorAll('.msg.assistant');
  const el = all[all.length - 1];
  if (!el) return null;
  const content = el.querySelector('.content');
  return {id: el.dataset.answerId, status: el.dataset.status,
          text: content.textContent, html: content.innerHTML, at: performance.now()};
}"""
# Truthy (the snapshot) once the newest answer shows text while still streaming.
STREAMING_WITH_TEXT = f"""(minChars) => {{
  const a = ({LAST_ANSWER})();
  return a && a.status === 'streaming' && a.text.length >= minChars ? a : null;
}}"""
# Every change to the answers area, with the answer's status at that moment.
RECORD_CHANGES = f"""() => {{
  window.__seen = [];
  new MutationObserver(() => {{
    const a = ({LAST_ANSWER})();
    if (a) window.__seen.push({{status: a.status, chars: a.text.length, at: a.at}});
  }}).observe(document.getElementById('messages'),
             {{childList: true, subtree: true, characterData: true, attributes: true}});
}}"""


@pytest.fixture
def site(make_client, web_server, celery_worker, model):
    """A client with one employee (a plain member); returns (client, base URL)."""
    result = make_client("e2e")
    with schema_context(result.client.schema_name):
        create_member(email=EMPLOYEE, password=PASSWORD)
    return result, web_server.url(result.domain.domain)


def send(page, text: str) -> None:
    page.fill("#composer-text", text)
    page.click("#send-button")


def wait_streaming(page, min_chars: int = 1) -> dict:
    return page.wait_for_function(STREAMING_WITH_TEXT, arg=min_chars).json_value()


def wait_done(page, timeout: float = 15_000) -> dict:
    page.wait_for_function(f"() => ({LAST_ANSWER})()?.status === 'done'", timeout=timeout)
    return page.evaluate(LAST_ANSWER)


def stored(result, answer_id) -> Message:
    with schema_context(result.client.schema_name):
        return Message.objects.get(pk=answer_id)


def test_tokens_show_while_streaming_and_the_answer_survives_a_reload(site, page, model,
                                                                      output_dir):
    result, base_url = site
    model.configure(token_delay=0.05, reply_tokens=TOKENS)
    # Opening the site sends the employee to sign in; the data notice is accepted once.
    log_in_page(page, base_url, EMPLOYEE, start="/", notice_button="I understand")
    expect(page.locator("#composer-text")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text(EMPLOYEE)
    expect(page.locator(".topbar")).not_to_contain_text("Bot settings")  # not an admin
    page.screenshot(path=output_dir / "0-home.png")
    page.evaluate(RECORD_CHANGES)

    send(page, "What is our travel policy?")
    mid = wait_streaming(page, min_chars=12)
    page.screenshot(path=output_dir / "1-mid-stream.png")
    assert page.evaluate(LAST_ANSWER)["status"] == "streaming", "screenshot shows a partial answer"
    final = wait_done(page)
    page.screenshot(path=output_dir / "2-done.png")

    assert mid["text"].startswith("You said: What is our travel policy?"[: len(mid["text"])])
    assert len(final["text"].strip()) > len(mid["text"]) > 0
    assert final["text"].strip().startswith(mid["text"].strip())
    assert len(final["text"].split()) == TOKENS
    seen = page.evaluate("window.__seen")
    growing = sorted({s["chars"] for s in seen if s["status"] == "streaming" and s["chars"]})
    assert len(growing) >= 10, f"text grew in steps while streaming, saw {growing}"
    first_text = next(s["at"] for s in seen if s["chars"])
    done_at = next(s["at"] for s in seen if s["status"] == "done")
    assert done_at - first_text > 1000, "the first tokens showed >1 s before the end"
    assert not page.locator("#send-button").is_disabled()
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    # The new chat's header offers rename and delete at once, as after a reload.
    title = page.locator(".chat-header input[name='title']")
    expect(title).to_have_value("What is our travel policy?")
    expect(page.locator(".chat-header button.danger")).to_be_visible()

    page.reload()
    reloaded = page.evaluate(LAST_ANSWER)
    assert reloaded["status"] == "done" and reloaded["id"] == final["id"]
    assert reloaded["html"] == final["html"]
    assert reloaded["text"].strip() == final["text"].strip() == stored(
        result, final["id"]).content
    expect(page.locator(".msg.user .bubble")).to_have_text("What is our travel policy?")
    expect(page.locator(".conversation-list li.active")).to_have_count(1)
    page.screenshot(path=output_dir / "3-after-reload.png", full_page=True)
    assert page.js_errors == []


def test_reload_mid_answer_picks_the_stream_up(site, page, model, output_dir):
    result, base_url = site
    model.configure(token_delay=0.05, reply_tokens=TOKENS)
    log_in_page(page, base_url, EMPLOYEE, start="/")

    send(page, "Hello")
    mid = wait_streaming(page, min_chars=20)
    response = page.reload()

    rendered = re.search(rf'data-answer-id="{mid["id"]}" data-status="(\w+)"', response.text())
    assert rendered and rendered[1] not in {"done", "failed", "cancelled"}, "reloaded mid-answer"
    page.screenshot(path=output_dir / "1-after-reload.png")
    final = wait_done(page)
    page.screenshot(path=output_dir / "2-done.png")

    text = final["text"].strip()
    assert text == stored(result, mid["id"]).content
    assert text.startswith("You said: Hello") and text.count("You said:") == 1
    assert len(text.split()) == TOKENS
    assert page.locator(".msg.assistant").count() == 1
    assert page.js_errors == []


HOSTILE_REPLY = "<img src=x onerror=window.__pwned=1> **bold** <script>window.__pwned=2</script>"
HOSTILE_QUESTION = "<img src=y onerror=window.__pwned=3>"
SAFETY = """() => ({
  pwned: typeof window.__pwned,
  dangerous: document.querySelectorAll('[onerror], #messages script, #messages img').length,
  bold: [...document.querySelectorAll('.msg.assistant .content strong')].map(e => e.textContent),
  answer: document.querySelector('.msg.assistant .content').textContent,
  question: document.querySelector('.msg.user .bubble').textContent,
})"""


def test_hostile_markup_never_runs(site, page, model, output_dir):
    _, base_url = site
    model.configure(token_delay=0.02, reply_text=HOSTILE_REPLY)
    log_in_page(page, base_url, EMPLOYEE, start="/")

    send(page, HOSTILE_QUESTION)
    wait_done(page)
    page.screenshot(path=output_dir / "1-done.png")
    live = page.evaluate(SAFETY)
    page.reload()
    expect(page.locator(".msg.assistant")).to_have_attribute("data-status", "done")
    page.screenshot(path=output_dir / "2-after-reload.png")
    reloaded = page.evaluate(SAFETY)

    for moment, seen in (("live", live), ("after reload", reloaded)):
        assert seen["pwned"] == "undefined", moment
        assert seen["dangerous"] == 0, moment
        assert seen["bold"] == ["bold"], moment
        assert "<img src=x onerror=window.__pwned=1>" in seen["answer"], moment  # as text
        assert seen["question"] == HOSTILE_QUESTION, moment
    assert page.js_errors == []


def test_online_answer_has_no_offline_badge(site, page, model):
    _, base_url = site
    model.configure(reply_tokens=5)
    log_in_page(page, base_url, EMPLOYEE, start="/")
    send(page, "Are you online?")
    wait_done(page)
    expect(page.locator(".msg.assistant .badge.offline")).to_be_hidden(timeout=1_000)
