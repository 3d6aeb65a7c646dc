"""Versions of a conversation (edit and resend, regenerate, ‹ 1/2 ›), the
sidebar's keyset pages grouped by day, the prompt library and code rendering:
through the real web server, worker, Redis and the local model server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.models import Conversation, Message, Prompt, SendRequest
from chat.rendering import markdown_to_html
from tenants.members.models import User
from tenants.members.services import create_member
from tests.support.site import Site

pytestmark = pytest.mark.worker
PASSWORD = "correct horse battery staple"


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    result = make_client("versions")
    site = Site(web_server.url(result.domain.domain)).login("admin@example.com", PASSWORD)
    site.base_url = web_server.url(result.domain.domain)
    return result, site


def shown(result, conversation_id) -> list[tuple[str, str]]:
    with schema_context(result.client.schema_name):
        return list(Message.objects.filter(conversation_id=conversation_id, superseded=False)
                    .order_by("id").values_list("role", "content"))


def finish(site, sent) -> None:
    assert site.events(sent["answer"]["stream_url"])[-1].event == "done"


def test_an_edited_question_starts_a_branch_and_the_earlier_one_comes_back(acme, model):
    result, site = acme
    first = site.ask("First question")
    finish(site, first)
    conversation_id = first["conversation_id"]
    second = site.ask("Second question", conversation_id)
    finish(site, second)
    third = site.ask("Third question", conversation_id)
    finish(site, third)

    # Edit the second question: the same send endpoint, with edit_of.
    response = site.post(f"/c/{conversation_id}/send/", {
        "text": "Second question, edited", "edit_of": second["question"]["id"],
        "request_id": "edit-1"})
    assert response.status_code == 201, response.text
    edited = response.json()
    assert edited["question"]["version"] == 2 and edited["question"]["versions"] == 2
    assert edited["question"]["previous_id"] == second["question"]["id"]
    finish(site, edited)
    # The same request again (a retry): nothing new is stored.
    again = site.post(f"/c/{conversation_id}/send/", {
        "text": "Second question, edited", "edit_of": second["question"]["id"],
        "request_id": "edit-1"})
    assert again.status_code == 200 and again.json()["answer"]["id"] == edited["answer"]["id"]

    assert [text for _role, text in shown(result, conversation_id)] == [
        "First question", "You said: First question",
        "Second question, edited", "You said: Second question, edited"]
    # The model saw the shown branch only: not the second or third question.
    sent = model.requests("/v1/chat/completions")[-1]["body"]["messages"]
    said = [m["content"] for m in sent if m["role"] == "user"]
    assert said == ["First question", "Second question, edited"]

    # Back to version 1 of the question: the third turn is shown again.
    assert site.post(f"/messages/{second['question']['id']}/show/").status_code == 200
    assert [text for _role, text in shown(result, conversation_id)] == [
        "First question", "You said: First question",
        "Second question", "You said: Second question",
        "Third question", "You said: Third question"]
    page = site.http.get(f"/c/{conversation_id}/").text
    assert "1 of 2" in page
    assert f'action="/messages/{edited["question"]["id"]}/show/"' in page

    # A new question on this branch follows the third answer.
    fourth = site.ask("Fourth question", conversation_id)
    finish(site, fourth)
    assert [text for _role, text in shown(result, conversation_id)][-2:] == [
        "Fourth question", "You said: Fourth question"]
    with schema_context(result.client.schema_name):
        assert SendRequest.objects.filter(request_id="edit-1").count() == 1
        assert Message.objects.get(pk=fourth["question"]["id"]).parent_id == third["answer"]["id"]


def test_regenerate_keeps_the_earlier_answer_as_a_version(acme, model):
    result, site = acme
    model.configure(reply_text="Answer A")
    sent = site.ask("Say something")
    finish(site, sent)
    conversation_id = sent["conversation_id"]
    follow_up = site.ask("And then?", conversation_id)
    finish(site, follow_up)

    model.configure(reply_text="Answer B")
    response = site.post(f"/answers/{sent['answer']['id']}/regenerate/")
    assert response.status_code == 201
    fresh = response.json()["answer"]
    assert (fresh["version"], fresh["versions"], fresh["previous_id"]) == (
        2, 2, sent["answer"]["id"])
    assert site.events(fresh["stream_url"])[-1].event == "done"
    assert shown(result, conversation_id) == [("user", "Say something"),
                                              ("assistant", "Answer B")]

    assert site.post(f"/messages/{sent['answer']['id']}/show/").status_code == 200
    assert shown(result, conversation_id) == [
        ("user", "Say something"), ("assistant", "Answer A"),
        ("user", "And then?"), ("assistant", "Answer A")]
    page = site.http.get(f"/c/{conversation_id}/").text
    assert page.count('class="version-count"') == 1 and "1 of 2" in page

    # Without script: the switcher is a form that comes back to the message.
    response = site.http.post(f"/messages/{fresh['id']}/show/",
                              data={"csrfmiddlewaretoken": site.csrf()})
    assert response.status_code == 302
    assert response.headers["location"] == f"/c/{conversation_id}/#m{fresh['id']}"
    assert shown(result, conversation_id)[-1] == ("assistant", "Answer B")


def test_versions_cannot_switch_while_an_answer_is_written(acme, model):
    result, site = acme
    sent = site.ask("One")
    finish(site, sent)
    model.configure(token_delay=0.2, reply_tokens=50)
    regenerated = site.post(f"/answers/{sent['answer']['id']}/regenerate/").json()["answer"]
    response = site.post(f"/messages/{sent['answer']['id']}/show/")
    assert response.status_code == 409
    assert "Wait for the current answer" in response.json()["error"]
    site.post(f"/answers/{regenerated['id']}/stop/")


def test_sidebar_pages_by_keyset_grouped_by_day(acme):
    result, site = acme
    now = timezone.now()
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        ages = {"today": dt.timedelta(0), "yesterday": dt.timedelta(days=1),
                "this week": dt.timedelta(days=4), "long ago": dt.timedelta(days=40)}
        for label, age in ages.items():
            chat = Conversation.objects.create(user=admin, title=f"Chat {label}")
            Conversation.objects.filter(pk=chat.pk).update(updated=now - age)
        for n in range(55):
            chat = Conversation.objects.create(user=admin, title=f"Old chat {n:02}")
            Conversation.objects.filter(pk=chat.pk).update(
                updated=now - dt.timedelta(days=60, minutes=n))

    page = site.http.get("/").text
    headings = re.findall(r'<h2 class="conversation-group">([^<]+)</h2>', page)
    assert headings == ["Today", "Yesterday", "Previous 7 days", "Older"]
    first = re.findall(r'href="/c/\d+/"[^>]*>([^<]+)</a>', page)
    assert first[:4] == ["Chat today", "Chat yesterday", "Chat this week", "Chat long ago"]
    assert len(first) == 50
    cursor = re.search(r'href="\?before=([\d.]+)" rel="next"', page)[1]

    second = site.http.get(f"/?before={cursor}").text
    rest = re.findall(r'href="/c/\d+/"[^>]*>([^<]+)</a>', second)
    assert len(rest) == 9 and not set(rest) & set(first)
    assert rest == [f"Old chat {n:02}" for n in range(46, 55)]
    assert 'rel="next"' not in second
    assert site.http.get("/?before=junk").status_code == 200  # a bad cursor: the first page


def test_prompt_library_is_curated_by_tenant_admins(acme):
    result, site = acme
    with schema_context(result.client.schema_name):
        create_member(email="member@example.com", password=PASSWORD)
    response = site.http.post("/settings/prompts/", data={
        "csrfmiddlewaretoken": site.csrf(), "title": "Weekly report",
        "text": "Write my weekly report from these notes:"})
    assert response.status_code == 302
    with schema_context(result.client.schema_name):
        prompt = Prompt.objects.get()
    assert site.http.post(f"/settings/prompts/{prompt.pk}/", data={
        "csrfmiddlewaretoken": site.csrf(), "title": "Weekly report (short)",
        "text": "Five bullet points:"}).status_code == 302
    refused = site.http.post("/settings/prompts/", data={
        "csrfmiddlewaretoken": site.csrf(), "title": "", "text": ""})
    assert refused.status_code == 200 and "This field is required." in refused.text

    member = Site(site.base_url).login("member@example.com", PASSWORD)
    assert member.http.get("/settings/prompts/").status_code == 403
    home = member.http.get("/").text
    assert "Weekly report (short)" in home and "Five bullet points:" in home
    assert "Type / for the prompt library." in home

    assert site.http.post(f"/settings/prompts/{prompt.pk}/delete/",
                          data={"csrfmiddlewaretoken": site.csrf()}).status_code == 302
    with schema_context(result.client.schema_name):
        assert not Prompt.objects.exists()


def test_code_is_highlighted_on_the_server_and_stays_safe():
    html = markdown_to_html("```python\ndef f(x):\n    return '<b>'\n```\n\n"
                            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```nosuchlang\n<i>x</i>\n```")
    assert '<code class="language-python"><span class="tok-k">def</span>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "&lt;i&gt;x&lt;/i&gt;" in html


def test_regenerate_waits_while_another_answer_is_written(acme, model):
    """Issue 21, finding 4: one answer in progress per conversation holds for
    regenerate too: while the answer to a later question is written, asking
    for another answer to an earlier one is refused (send and show-version
    already were), so two answers never stream at once in one conversation."""
    result, site = acme
    first = site.ask("One")
    finish(site, first)
    model.configure(token_delay=0.2, reply_tokens=50)
    second = site.ask("Two", first["conversation_id"])
    response = site.post(f"/answers/{first['answer']['id']}/regenerate/")
    assert response.status_code == 409, response.text
    assert "Wait for the current answer" in response.json()["error"]
    with schema_context(result.client.schema_name):
        assert Message.objects.filter(
            conversation_id=first["conversation_id"], role="assistant",
            status__in=["pending", "streaming"]).count() == 1
    site.post(f"/answers/{second['answer']['id']}/stop/")
