"""The path of a message, through the real web server, worker, Redis and the
local model server (the real openai SDK talks to it over HTTP)."""


import pytest
from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from devtools.local_model import split_tokens
from tests.support.accounts import signed_in_site
from tests.support.factories import MemberFactory
from tests.support.site import text_of

pytestmark = pytest.mark.worker


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    result = make_client("chat")
    site = signed_in_site(web_server, result)
    return result, site


def stream_ms(event) -> int:
    return int(event.id.split("-")[0])


def stored(result, answer_id) -> Message:
    with schema_context(result.client.schema_name):
        return Message.objects.get(pk=answer_id)


def test_answer_streams_and_is_stored(acme, model):
    result, site = acme
    model.configure(token_delay=0.02, reply_tokens=30)
    sent = site.ask("What is our travel policy?")
    assert sent["answer"]["status"] == "pending"

    events = site.events(sent["answer"]["stream_url"])

    kinds = [e.event for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done"
    deltas = [e.data["text"] for e in events if e.event == "delta"]
    assert deltas[0] == split_tokens(text_of(events))[0], "the first token goes at once"
    assert len(deltas) > 3, "the text arrives while it is written, in small batches"
    streamed = text_of(events)
    assert streamed.startswith("You said: What is our travel policy?")
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.DONE
    assert answer.content == streamed
    assert answer.completion_tokens and answer.prompt_tokens
    assert answer.latency_ms is not None and answer.model == "gpt-4o-mini"
    assert events[-1].data["html"].startswith("<p>You said:")

    [request] = model.requests("/v1/chat/completions")
    body = request["body"]
    assert body["stream"] is True and body["store"] is False
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][-1] == {"role": "user", "content": "What is our travel policy?"}


def test_history_and_instructions_are_sent(acme, model):
    result, site = acme
    first = site.ask("My name is Ada.")
    site.events(first["answer"]["stream_url"])
    second = site.ask("What is my name?", first["conversation_id"])
    site.events(second["answer"]["stream_url"])

    body = model.requests("/v1/chat/completions")[-1]["body"]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert body["messages"][1]["content"] == "My name is Ada."


def test_resume_with_last_event_id_loses_and_repeats_nothing(acme, model):
    result, site = acme
    model.configure(token_delay=0.05, reply_tokens=30)
    sent = site.ask("Tell me a long story")

    first_part = site.events(sent["answer"]["stream_url"], limit=5)
    last_id = [e for e in first_part if e.id][-1].id
    rest = site.events(sent["answer"]["stream_url"], last_event_id=last_id)

    assert rest[-1].event == "done"
    assert text_of(first_part) + text_of(rest) == stored(result, sent["answer"]["id"]).content
    assert not {e.id for e in first_part} & {e.id for e in rest}


def test_reload_mid_answer_replays_the_stream(acme, model):
    result, site = acme
    model.configure(token_delay=0.05, reply_tokens=20)
    sent = site.ask("Hello")
    site.events(sent["answer"]["stream_url"], limit=3)  # the page is closed here

    page = site.http.get(sent["conversation_url"])
    assert page.status_code == 200
    assert f'data-answer-id="{sent["answer"]["id"]}"' in page.text
    replay = site.events(sent["answer"]["stream_url"])
    assert text_of(replay) == stored(result, sent["answer"]["id"]).content


def test_stop_keeps_the_partial_answer(acme, model):
    result, site = acme
    model.configure(token_delay=0.1, reply_tokens=200)
    sent = site.ask("Write a lot")
    site.events(sent["answer"]["stream_url"], limit=3)

    assert site.post(f"/answers/{sent['answer']['id']}/stop/").status_code == 200
    events = site.events(sent["answer"]["stream_url"])

    assert events[-1].event == "cancelled"
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.CANCELLED
    assert 0 < len(answer.content.split()) < 200


def test_regenerate_replaces_the_answer(acme, model):
    result, site = acme
    sent = site.ask("Say something")
    site.events(sent["answer"]["stream_url"])

    response = site.post(f"/answers/{sent['answer']['id']}/regenerate/")
    assert response.status_code == 201
    fresh = response.json()["answer"]
    assert site.events(fresh["stream_url"])[-1].event == "done"
    assert stored(result, sent["answer"]["id"]).superseded
    page = site.http.get(sent["conversation_url"]).text
    assert f'data-answer-id="{fresh["id"]}"' in page
    assert f'data-answer-id="{sent["answer"]["id"]}"' not in page


def test_feedback_is_recorded_and_admins_can_review_it(acme):
    result, site = acme
    sent = site.ask("Rate me")
    site.events(sent["answer"]["stream_url"])
    url = f"/answers/{sent['answer']['id']}/feedback/"
    assert site.post(url, {"value": "-1", "comment": "Too vague"}).status_code == 200

    review = site.http.get("/settings/feedback/")
    assert review.status_code == 200 and "Too vague" in review.text


def test_429_is_retried_after_retry_after(acme, model):
    result, site = acme
    model.configure(fail_next=2, fail_status=429, retry_after=0.3)
    sent = site.ask("Busy?")
    events = site.events(sent["answer"]["stream_url"])
    assert events[-1].event == "done"
    assert len(model.requests("/v1/chat/completions")) == 3


@pytest.mark.parametrize(("setup", "expected_user", "expected_admin"), [
    ({"fail_next": 10, "fail_status": 500}, "having problems", "500"),
    ({"fail_next": 10, "fail_status": 429, "retry_after": 0.1}, "too many requests", "429"),
    ({"hang": True}, "took too long", "did not answer"),
    ({"truncate_after": 3}, "cut off", "ended before it was complete"),
])
def test_failures_end_failed_with_a_clear_sentence(acme, model, setup, expected_user,
                                                   expected_admin):
    result, site = acme
    model.configure(**setup)
    sent = site.ask("Will this work?")
    events = site.events(sent["answer"]["stream_url"], timeout=60)

    assert events[-1].event == "failed"
    assert expected_user in events[-1].data["error"]
    answer = stored(result, sent["answer"]["id"])
    assert answer.status == Message.Status.FAILED
    assert expected_user in answer.error and expected_admin in answer.error_detail
    # The question is kept and can be retried.
    with schema_context(result.client.schema_name):
        assert answer.reply_to.content == "Will this work?"
    model.reset()
    retry = site.post(f"/answers/{answer.pk}/regenerate/").json()["answer"]
    assert site.events(retry["stream_url"])[-1].event == "done"


def test_bad_client_key_tells_employee_to_ask_admin_and_admin_what_to_fix(acme, model):
    result, site = acme
    form = {"name": "Acme bot", "accent_color": "#112233", "welcome_message": "Hi",
            "suggested_prompts_text": "", "system_instructions": "Be brief.",
            "model": "gpt-4o-mini", "temperature": "0.2", "max_output_tokens": "256",
            "history_messages": "4", "base_url": "", "organization": "", "project": "",
            "api_key": "sk-wrong-key-1234", "csrfmiddlewaretoken": site.csrf()}
    assert site.http.post("/settings/bot/", data=form).status_code == 302

    sent = site.ask("Hello?")
    events = site.events(sent["answer"]["stream_url"])
    assert events[-1].event == "failed"
    assert "contact your workspace admin" in events[-1].data["error"]
    assert "refused the API key" in stored(result, sent["answer"]["id"]).error_detail

    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and "refused the API key (401)" in check["message"]
    page = site.http.get("/settings/bot/").text
    assert "1234" in page and "sk-wrong-key-1234" not in page


def test_unknown_model_and_test_connection(acme, model):
    result, site = acme
    from chat import selectors, services

    with schema_context(result.client.schema_name):
        services.update_bot_config(config=selectors.get_bot_config(), model="gpt-nope")
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is False and "gpt-nope" in check["message"] and "404" in check["message"]

    with schema_context(result.client.schema_name):
        services.update_bot_config(config=selectors.get_bot_config(),
                                   model="ft:gpt-4o-mini:acme::abc123")
    check = site.post("/settings/bot/test/").json()
    assert check["ok"] is True and "ft:gpt-4o-mini:acme::abc123" in check["message"]
    sent = site.ask("Fine-tuned?")
    assert site.events(sent["answer"]["stream_url"])[-1].event == "done"
    assert model.requests("/v1/chat/completions")[-1]["body"]["model"].startswith("ft:")


def test_client_key_is_encrypted_at_rest(acme):
    result, site = acme
    from chat import selectors, services

    with schema_context(result.client.schema_name):
        config = services.update_bot_config(config=selectors.get_bot_config(),
                                            api_key="sk-very-secret-9876")
        assert "sk-very-secret" not in config.api_key_encrypted
        assert config.api_key_last4 == "9876"
        assert services.model_endpoint(config).api_key == "sk-very-secret-9876"


def test_bad_input_gets_form_errors(acme):
    result, site = acme
    assert site.send("   ").status_code == 400
    long = site.send("x" * 20001)
    assert long.status_code == 400 and "20,001" in long.json()["error"]
    with schema_context(result.client.schema_name):
        assert not Conversation.objects.exists()


def test_per_user_rate_limit_answers_429(acme, model):
    result, site = acme
    model.configure(reply_tokens=2)
    codes = []
    for i in range(14):
        response = site.send(f"message {i}")
        codes.append(response.status_code)
        if response.status_code == 201:
            site.events(response.json()["answer"]["stream_url"])
        if response.status_code == 429:
            assert "faster than allowed" in response.json()["error"]
            break
    assert codes[-1] == 429 and codes.count(201) == 12


def test_other_users_and_other_clients_ids_answer_404(acme, make_client, web_server):
    result, site = acme
    sent = site.ask("private question")
    site.events(sent["answer"]["stream_url"])
    answer_id, conversation_id = sent["answer"]["id"], sent["conversation_id"]

    with schema_context(result.client.schema_name):
        MemberFactory(email="colleague@example.com")
    colleague = signed_in_site(web_server, result, "colleague@example.com")
    other = make_client("other")
    outsider = signed_in_site(web_server, other)

    for person in (colleague, outsider):
        assert person.http.get(f"/c/{conversation_id}/").status_code == 404
        assert person.http.get(f"/answers/{answer_id}/").status_code == 404
        assert person.http.get(f"/answers/{answer_id}/stream/").status_code == 404
        assert person.post(f"/answers/{answer_id}/stop/").status_code == 404
        assert person.post(f"/c/{conversation_id}/delete/").status_code == 404
        assert "private question" not in person.http.get("/?q=private").text
    assert site.http.get(f"/c/{conversation_id}/").status_code == 200


def test_conversations_list_search_rename_delete(acme):
    result, site = acme
    a = site.ask("Quarterly budget for marketing")
    site.events(a["answer"]["stream_url"])
    b = site.ask("Holiday schedule")
    site.events(b["answer"]["stream_url"])

    home = site.http.get("/").text
    assert home.index("Holiday schedule") < home.index("Quarterly budget")  # newest first
    found = site.http.get("/?q=budget").text
    assert "Quarterly budget" in found and "Holiday schedule" not in found

    site.http.post(f"/c/{a['conversation_id']}/rename/",
                   data={"title": "Budget 2027", "csrfmiddlewaretoken": site.csrf()})
    assert "Budget 2027" in site.http.get("/").text
    site.http.post(f"/c/{b['conversation_id']}/delete/",
                   data={"csrfmiddlewaretoken": site.csrf()})
    assert site.http.get(f"/c/{b['conversation_id']}/").status_code == 404
    with schema_context(result.client.schema_name):
        assert not Message.objects.filter(conversation_id=b["conversation_id"]).exists()


def test_markdown_is_rendered_and_hostile_markup_is_neutralised(acme, model):
    result, site = acme
    reply = (
        "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nprint(1)\n```\n\n"
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    )
    model.configure(reply_text=reply)
    sent = site.ask("format please")
    html = site.events(sent["answer"]["stream_url"])[-1].data["html"]
    assert "<table>" in html and "<pre><code" in html and "<h1>" in html
    # Raw HTML from the model shows as text; no element or link can run code.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = site.http.get(sent["conversation_url"]).text
    assert "<script>alert(1)</script>" not in page


def test_welcome_message_and_suggested_prompts_on_a_new_chat(acme):
    result, site = acme
    from chat import selectors, services

    with schema_context(result.client.schema_name):
        services.update_bot_config(config=selectors.get_bot_config(), name="Acme Helper",
                                   welcome_message="Welcome to Acme!",
                                   suggested_prompts=["How do I book travel?"])
    page = site.http.get("/").text
    assert "Acme Helper" in page and "Welcome to Acme!" in page
    assert "How do I book travel?" in page


def test_answers_do_not_wait_for_each_other(acme, model):
    """Many streams at once in one llm worker process (threads)."""
    result, site = acme
    # Each answer streams for several seconds, longer than sending all eight takes.
    model.configure(token_delay=0.4, reply_tokens=15)
    answers = []
    for i in range(8):
        response = site.send(f"parallel {i}")
        assert response.status_code == 201
        answers.append(response.json()["answer"])
    first_delta, done = [], []
    for answer in answers:
        events = site.events(answer["stream_url"])
        assert events[-1].event == "done"
        # Event ids are Redis stream ids: "<milliseconds of Redis' clock>-<sequence>".
        first_delta.append(stream_ms(next(e for e in events if e.event == "delta")))
        done.append(stream_ms(events[-1]))
    # Every answer had begun streaming before any had finished: all eight were
    # written at the same time (one after another, the first ends before the second begins).
    assert max(first_delta) < min(done), (first_delta, done)


def test_encryption_keys_rotate(make_client, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from chat import selectors, services
    from core import secrets

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    result = make_client("rotate")
    with schema_context(result.client.schema_name):
        services.update_bot_config(config=selectors.get_bot_config(), api_key="sk-rotate-me-42")

    settings.ENCRYPTION_KEYS = [new, old]
    call_command("rotate_api_keys")

    settings.ENCRYPTION_KEYS = [new]  # the old key is gone now
    with schema_context(result.client.schema_name):
        stored = selectors.get_bot_config().api_key_encrypted
        assert secrets.decrypt(stored) == "sk-rotate-me-42"
