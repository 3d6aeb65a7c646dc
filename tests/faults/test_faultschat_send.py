"""Sending is idempotent: the browser's request id makes a repeat — a double
click, a retry after a lost response, two requests at the same moment, on a
new chat too — return the first result, and nothing is stored twice.

Everything goes through the real web server (uvicorn), PostgreSQL, Redis and a
Celery worker; the simultaneous requests are truly concurrent HTTP requests."""

from __future__ import annotations

import threading
import uuid

import pytest
from django_tenants.utils import schema_context

from chat.models import Conversation, Message, SendRequest
from tests.support.accounts import PASSWORD, signed_in_site
from tests.support.faultschat import Watched, record, tally
from tests.support.site import Site

pytestmark = pytest.mark.worker


def _at_once(site: Site, path: str, data: dict, n: int) -> list:
    """n POSTs released together (a barrier), each on its own connection."""
    barrier = threading.Barrier(n)
    responses: list = [None] * n
    clients = [Site(str(site.http.base_url)) for _ in range(n)]
    for client in clients:
        client.http.headers["Host"] = site.http.headers["Host"]
        client.http.cookies = site.http.cookies

    def fire(index: int) -> None:
        barrier.wait()
        responses[index] = clients[index].post(path, data)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


@pytest.mark.parametrize("new_chat", [True, False], ids=["new-chat", "existing-chat"])
def test_simultaneous_repeats_store_one_question_and_one_answer(
        make_client, web_server, celery_worker, model, new_chat):
    result = make_client("idem")
    site = signed_in_site(web_server, result)
    conversation_id = None
    if not new_chat:
        first = site.ask("An earlier question")
        site.events(first["answer"]["stream_url"])
        conversation_id = first["conversation_id"]
    model.clear()
    request_id = str(uuid.uuid4())
    path = f"/c/{conversation_id}/send/" if conversation_id else "/send/"

    responses = _at_once(site, path, {"text": "Book me a room", "request_id": request_id}, 8)

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 7 + [201], [(r.status_code, r.text[:200]) for r in responses]
    bodies = [r.json() for r in responses]
    assert {b["conversation_id"] for b in bodies} == {bodies[0]["conversation_id"]}
    assert {b["question"]["id"] for b in bodies} == {bodies[0]["question"]["id"]}
    assert {b["answer"]["id"] for b in bodies} == {bodies[0]["answer"]["id"]}
    assert [b["repeated"] for b in bodies].count(False) == 1
    # The answer is written once, and every repeat reads the same stream.
    events = site.events(bodies[0]["answer"]["stream_url"])
    assert events[-1].event == "done"
    assert len(model.requests("/v1/chat/completions")) == 1
    with schema_context(result.client.schema_name):
        assert Conversation.objects.count() == 1
        texts = list(Message.objects.filter(role="user").values_list("content", flat=True))
        assert texts.count("Book me a room") == 1
        assert Message.objects.filter(role="assistant").count() == (1 if new_chat else 2)
        assert SendRequest.objects.filter(request_id=request_id).count() == 1
    counts = tally(result, [Watched(bodies[0], events, 0.0)])
    assert (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0)
    record(f"double submit x8 at once ({'new' if new_chat else 'existing'} chat)", 0.0,
           "1 question, 1 answer; 7 repeats got the first result", "n/a")


def test_a_repeat_after_the_answer_returns_the_first_result(
        make_client, web_server, celery_worker, model):
    result = make_client("idem2")
    site = signed_in_site(web_server, result)
    request_id = uuid.uuid4().hex
    first = site.post("/send/", {"text": "Where is the office?", "request_id": request_id})
    assert first.status_code == 201
    assert site.events(first.json()["answer"]["stream_url"])[-1].event == "done"

    again = site.post("/send/", {"text": "Where is the office?", "request_id": request_id})

    assert again.status_code == 200
    assert again.json()["answer"]["id"] == first.json()["answer"]["id"]
    assert again.json()["answer"]["status"] == "done", "the first result, as it is now"
    # Another request id is another message (a real second question).
    other = site.post(f"/c/{first.json()['conversation_id']}/send/",
                      {"text": "Where is the office?", "request_id": uuid.uuid4().hex})
    assert other.status_code == 201
    assert other.json()["answer"]["id"] != first.json()["answer"]["id"]


def test_request_ids_are_per_user(make_client, web_server, celery_worker, model):
    result = make_client("idem3")
    site = signed_in_site(web_server, result)
    with schema_context(result.client.schema_name):
        from tenants.members.services import create_member

        create_member(email="second@example.com", password=PASSWORD)
    other = Site(str(site.http.base_url))
    other.http.headers["Host"] = site.http.headers["Host"]
    other.login("second@example.com", PASSWORD)
    request_id = uuid.uuid4().hex

    mine = site.post("/send/", {"text": "Mine", "request_id": request_id})
    theirs = other.post("/send/", {"text": "Theirs", "request_id": request_id})

    assert mine.status_code == 201 and theirs.status_code == 201
    assert mine.json()["answer"]["id"] != theirs.json()["answer"]["id"]
    assert theirs.json()["question"]["text"] == "Theirs"


@pytest.mark.parametrize("bad", ["x" * 65, "<script>", "a b"])
def test_a_malformed_request_id_is_refused_clearly(make_client, web_server, model, bad):
    result = make_client("idem4")
    site = signed_in_site(web_server, result)
    response = site.post("/send/", {"text": "Hello", "request_id": bad})
    assert response.status_code == 400
    assert "request id is not valid" in response.json()["error"]
    with schema_context(result.client.schema_name):
        assert Message.objects.count() == 0
