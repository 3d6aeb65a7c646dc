"""Issue 21, finding 5: integer ids that arrive as text are parsed once, by
core.ids, and bounded. A superscript digit ("²" passes str.isdigit()), a
5,000-digit number (more than int() reads) or one beyond the column are a
404 or 400, never a 500; a stream event id beyond Redis's 64-bit range is a
400, not "its message service is down" (503)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from core import ids
from tests.support.accounts import signed_in_client

HUGE = "9" * 5000
BAD_IDS = ["²", "١", HUGE, "9" * 4301, "9" * 30, "-1", "+1", " 1", "1 ", "0x1", ""]


@pytest.mark.parametrize("text", BAD_IDS)
def test_the_helper_refuses_what_is_not_a_bounded_id(text):
    assert ids.parse_id(text) is None


def test_the_helper_reads_ids_and_event_ids_within_their_range():
    assert ids.parse_id("42") == 42
    assert ids.parse_id(str(ids.MAX_ID)) == ids.MAX_ID
    assert ids.parse_id(str(ids.MAX_ID + 1)) is None
    assert ids.parse_id("0", minimum=1) is None
    assert ids.parse_event_id("1700000000000-0") == (1700000000000, 0)
    assert ids.parse_event_id(f"{2**64 - 1}-{2**64 - 1}") == (2**64 - 1, 2**64 - 1)
    for bad in (f"{2**64}-0", f"0-{2**64}", "99999999999999999999-0", "1-", "-1", "1-²", "1"):
        assert ids.parse_event_id(bad) is None, bad


@pytest.fixture
def chatting(make_client):
    """A client site, its admin signed in, with a conversation holding a
    question and a finished answer."""
    from tenants.members.models import User
    from tests.support.factories import AnswerFactory, QuestionFactory

    result = make_client("badids")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        question = QuestionFactory(conversation__user=admin)
        answer = AnswerFactory(reply_to=question, conversation=question.conversation)
    return result, signed_in_client(result), question, answer


@pytest.mark.parametrize("edit_of", ["²", HUGE, "9" * 30, "-1"])
def test_a_bad_edit_of_is_a_404_not_a_500(chatting, edit_of):
    _result, browser, question, _answer = chatting
    response = browser.post(f"/c/{question.conversation_id}/send/",
                            {"text": "Edited", "edit_of": edit_of},
                            HTTP_ACCEPT="application/json")
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("path", [f"/c/{HUGE}/", f"/answers/{'9' * 30}/", "/c/²/",
                                  f"/messages/{'9' * 4301}/show/"])
def test_a_bad_id_in_a_path_is_a_404(chatting, path):
    _result, browser, _question, _answer = chatting
    assert browser.get(path).status_code == 404


@pytest.mark.parametrize("before", [f"{HUGE}.1", "1.²", f"{'9' * 19}.1", "²."])
def test_a_bad_sidebar_cursor_is_the_first_page(chatting, before):
    _result, browser, _question, _answer = chatting
    assert browser.get("/", {"before": before}).status_code == 200


@pytest.mark.parametrize("after", ["99999999999999999999-0", f"0-{2**64}", "1-²"])
def test_a_stream_event_id_beyond_redis_range_is_a_400(chatting, after):
    _result, browser, _question, answer = chatting
    response = browser.get(f"/answers/{answer.pk}/stream/", {"after": after},
                           HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 400, (response.status_code, response.content[:300])
