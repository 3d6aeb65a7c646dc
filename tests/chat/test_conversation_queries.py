"""The conversation page reads a fixed number of queries however many answers
it shows (no query per answer: the redaction note of each answer's question is
read with the messages, in chat.selectors.visible_messages)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from compliance.models import MessageRedaction
from tenants.members.models import User

PASSWORD = "correct horse battery staple"


def _conversation(turns: int) -> int:
    admin = User.objects.get(email="admin@example.com")
    conversation = Conversation.objects.create(user=admin, title=f"{turns} turns")
    answer = None
    for n in range(turns):  # as the send path writes them: each turn follows the last
        question = Message.objects.create(conversation=conversation, role=Message.Role.USER,
                                          content=f"Question {n} to a.b@example.com",
                                          parent=answer)
        answer = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT,
                                        reply_to=question, parent=question,
                                        status=Message.Status.DONE, content=f"Answer {n}")
        MessageRedaction.objects.create(
            message_id=question.pk, conversation_id=conversation.pk,
            items=[{"type": "EMAIL_ADDRESS", "label": "E-mail", "placeholder": f"<EMAIL_{n}>",
                    "original": "a.b@example.com"}])
    return conversation.pk


def _queries_for_page(browser, conversation_id: int) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(f"/c/{conversation_id}/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_conversation_page_queries_do_not_grow_with_answers(make_client, host_client):
    result = make_client("queries")
    with schema_context(result.client.schema_name):
        small, large = _conversation(2), _conversation(30)
    browser = host_client(result.domain.domain)
    assert browser.post("/accounts/login/", {"username": "admin@example.com",
                                             "password": PASSWORD}).status_code == 302
    _queries_for_page(browser, small)  # warm per-process caches (sessions, settings)

    few, _ = _queries_for_page(browser, small)
    many, html = _queries_for_page(browser, large)

    assert many == few, f"{many} queries for 30 answers against {few} for 2: a query per answer"
    # The redaction notes are still shown, one per answer.
    assert html.count("&lt;EMAIL_29&gt;") == 1 and html.count("Redacted before sending:") == 30
    assert 'class="versions"' not in html  # one version of each message
