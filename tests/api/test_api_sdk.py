"""The official `openai` Python SDK against our live server (uvicorn), a real
Celery worker, Redis, PostgreSQL and the local model server: the API answers
through the chat's own pipeline, in OpenAI's shapes, and refuses what it
should with the exception OpenAI's SDK raises for the status."""

from __future__ import annotations

import json

import openai
import pytest
from django_tenants.utils import schema_context

from api import services as api_services
from chat.models import Conversation, Message
from compliance.models import AuditRecord
from core import rate_limits
from tests.support.accounts import ADMIN_EMAIL

pytestmark = pytest.mark.worker


def sdk(web_server, client, secret: str) -> openai.OpenAI:
    """The SDK pointed at a client's site on the live server (loopback, with
    the client's host in the Host header, as for *.localhost)."""
    host = client.domain.domain
    return openai.OpenAI(base_url=f"http://127.0.0.1:{web_server.port}/v1", api_key=secret,
                         default_headers={"Host": f"{host}:{web_server.port}"},
                         max_retries=0, timeout=60)


def _token(client, email: str = ADMIN_EMAIL, **kwargs) -> str:
    from tenants.members.models import User

    with schema_context(client.client.schema_name):
        user = User.objects.get(email=email)
        return api_services.create_token(user=user, name="test", **kwargs)[1]


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    client = make_client("api")
    return client, sdk(web_server, client, _token(client))


def _model_id(api) -> str:
    [model] = api.models.list().data
    return model.id


def test_models_lists_the_clients_assistant(acme):
    client, api = acme

    models = api.models.list().data

    assert [m.id for m in models] == ["assistant"]
    assert models[0].owned_by == client.client.name


def test_a_non_streaming_answer_goes_the_chats_way_and_is_not_kept(acme, model):
    client, api = acme

    answer = api.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "Hello there"}])

    assert answer.object == "chat.completion"
    assert answer.choices[0].message.content == "You said: Hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0
    assert answer.usage.total_tokens == (answer.usage.prompt_tokens
                                         + answer.usage.completion_tokens)
    assert answer.model_extra["citations"] == []
    [request] = model.requests("/v1/chat/completions")
    assert request["body"]["store"] is False and request["body"]["stream"] is True
    # The client's instructions went first, as for the browser.
    assert request["body"]["messages"][0]["role"] == "system"
    with schema_context(client.client.schema_name):
        [record] = AuditRecord.objects.filter(kind="chat")
        assert record.user_email == ADMIN_EMAIL and record.status == "ok"
        assert record.completion_tokens == answer.usage.completion_tokens
        # Not kept in history: nothing left but the audit record.
        assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_streamed_answer_arrives_in_chunks_with_usage_last(acme, model):
    client, api = acme
    model.configure(token_delay=0.02)

    chunks = list(api.chat.completions.create(
        model="assistant", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Stream this answer to me, please"}]))

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: Stream this answer to me, please"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 2
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_multi_turn_history_reaches_the_model_and_keep_history_keeps_it(acme, model):
    client, api = acme

    answer = api.chat.completions.create(
        model="assistant", extra_body={"keep_history": True},
        messages=[{"role": "system", "content": "Answer in one line."},
                  {"role": "user", "content": "My name is Ann."},
                  {"role": "assistant", "content": "Hello Ann."},
                  {"role": "user", "content": "What is my name?"}])

    assert answer.choices[0].message.content == "You said: What is my name?"
    [request] = model.requests("/v1/chat/completions")
    sent = [(m["role"], m["content"]) for m in request["body"]["messages"][1:]]
    assert sent == [("user", "(Instructions from the tool calling the assistant)\n"
                             "Answer in one line."),
                    ("user", "My name is Ann."), ("assistant", "Hello Ann."),
                    ("user", "What is my name?")]
    with schema_context(client.client.schema_name):
        conversation = Conversation.objects.get()
        assert conversation.source == "api" and conversation.in_history
        assert conversation.messages.count() == 5


def test_the_keep_header_keeps_a_streamed_call(acme):
    client, api = acme

    list(api.chat.completions.create(model="assistant", stream=True,
                                     extra_headers={"X-Keep-History": "1"},
                                     messages=[{"role": "user", "content": "Keep me"}]))

    with schema_context(client.client.schema_name):
        assert Conversation.objects.get().title == "Keep me"


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ({"temperature": 0.2}, "temperature"),
    ({"n": 2}, "n"),
    ({"logprobs": True}, "logprobs"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]},
     "messages[0].content[0].type"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
    ({"messages": []}, "messages"),
])
def test_unsupported_fields_are_a_400_naming_the_field(acme, kwargs, param, model):
    client, api = acme
    request = {"model": "assistant", "messages": [{"role": "user", "content": "Hi"}], **kwargs}

    with pytest.raises(openai.BadRequestError) as refused:
        api.chat.completions.create(**request)

    assert refused.value.status_code == 400
    assert refused.value.body["param"] == param
    assert refused.value.body["type"] == "invalid_request_error"
    assert not model.requests("/v1/chat/completions")


def test_a_model_failure_is_a_5xx_error_not_an_empty_answer(acme, model):
    _client, api = acme
    model.configure(fail_next=1, fail_status=400)

    with pytest.raises(openai.InternalServerError) as refused:
        api.chat.completions.create(model="assistant",
                                    messages=[{"role": "user", "content": "x"}])

    assert refused.value.status_code == 502
    assert refused.value.body["message"]


def test_an_unknown_model_is_a_404(acme):
    _client, api = acme

    with pytest.raises(openai.NotFoundError) as refused:
        api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])

    assert refused.value.body["code"] == "model_not_found"


def test_tokens_that_are_not_good_here_get_401_and_no_data(
        acme, make_client, web_server, model):
    from tenants.members.models import User
    from tenants.members.services import create_member

    client, api = acme
    other = make_client("api-other")
    of_other_client = _token(other)
    with schema_context(client.client.schema_name):
        create_member(email="bob@example.com", password="x" * 20)
    of_bob = _token(client, "bob@example.com")
    revoked = _token(client)
    with schema_context(client.client.schema_name):
        api_services.revoke_token(
            token=api_services.authenticate(authorization=f"Bearer {revoked}"), by=None)
        User.objects.filter(email="bob@example.com").update(is_active=False)
    question = {"model": "assistant", "messages": [{"role": "user", "content": "Secrets?"}]}

    for secret in ("sk-wrong", "tuneai_pat_" + "x" * 43, of_other_client, of_bob, revoked):
        bad = sdk(web_server, client, secret)
        with pytest.raises(openai.AuthenticationError) as refused:
            bad.chat.completions.create(**question)
        assert refused.value.status_code == 401
        assert refused.value.body["type"] == "authentication_error"
        with pytest.raises(openai.AuthenticationError):
            list(bad.chat.completions.create(stream=True, **question))
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
    # ...and the other client's own token works on its own site only.
    assert _model_id(sdk(web_server, other, of_other_client)) == "assistant"
    assert not model.requests("/v1/chat/completions")
    with schema_context(client.client.schema_name):
        assert not Message.objects.exists()


def test_the_api_switched_off_is_a_403(acme):
    client, api = acme
    with schema_context(client.client.schema_name):
        api_services.update_api_settings(enabled=False, cors_origins=[])

    with pytest.raises(openai.PermissionDeniedError):
        api.chat.completions.create(model="assistant",
                                    messages=[{"role": "user", "content": "x"}])


def test_the_chats_rate_limit_is_a_429_with_retry_after(acme, model):
    from tenants.members.models import User

    client, api = acme
    with schema_context(client.client.schema_name):
        admin = User.objects.get(email=ADMIN_EMAIL)
        # The person's window is full (12/minute in tests): as after 12 questions.
        rate_limits.count_hits([(f"user:{client.client.schema_name}:{admin.pk}", 60)] * 12)

    with pytest.raises(openai.RateLimitError) as refused:
        api.chat.completions.create(model="assistant",
                                    messages=[{"role": "user", "content": "One more"}])

    assert refused.value.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "60"
    assert refused.value.body["type"] == "rate_limit_error"
    assert not model.requests("/v1/chat/completions")


def test_the_per_token_rate_limit_is_a_429_with_retry_after(acme):
    from django.conf import settings

    _client, api = acme
    limit = int(settings.API_RATE_LIMIT_PER_TOKEN.split("/")[0])

    for _ in range(limit):
        api.models.list()
    with pytest.raises(openai.RateLimitError) as refused:
        api.models.list()

    assert int(refused.value.response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(("country", "question", "originals"), [
    ("US", "Write to jane.doe@example.com and call +1 415 555 0100.",
     ["jane.doe@example.com", "415 555 0100"]),
    ("KR", "계약서는 jane.doe@example.com로 보내 주세요. 주민등록번호는 900101-1234568이고 "
           "연락처는010-1234-5678입니다.",
     ["jane.doe@example.com", "900101-1234568", "010-1234-5678"]),
    ("JP", "見積書を jane.doe@example.com に送ってください。電話は 090-1234-5678 です。",
     ["jane.doe@example.com", "090-1234-5678"]),
])
def test_redaction_holds_for_api_calls(make_client, web_server, celery_worker, model,
                                       country, question, originals):
    client = make_client(f"api-{country.lower()}", country=country)
    api = sdk(web_server, client, _token(client))

    chunks = list(api.chat.completions.create(
        model="assistant", stream=True, messages=[{"role": "user", "content": question}]))

    [request] = model.requests("/v1/chat/completions")
    raw = json.dumps(request["body"], ensure_ascii=False)
    for original in originals:
        assert original not in raw
    assert "<EMAIL_1>" in request["body"]["messages"][-1]["content"]
    assert "<PHONE_1>" in request["body"]["messages"][-1]["content"]
    # The caller reads the originals back, as the browser does.
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"You said: {question}"
    with schema_context(client.client.schema_name):
        [record] = AuditRecord.objects.filter(kind="chat")
        assert record.redactions.get("EMAIL_ADDRESS") == 1


def test_a_caller_hanging_up_midway_stops_the_answer(acme, model):
    from tests.support.waiting import wait_until

    client, api = acme
    model.configure(token_delay=0.1, reply_tokens=200)

    stream = api.chat.completions.create(
        model="assistant", stream=True, messages=[{"role": "user", "content": "Long one"}])
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()

    def stopped() -> bool:
        with schema_context(client.client.schema_name):
            answer = Message.objects.filter(role="assistant").first()
            return answer is not None and answer.status == "cancelled"

    wait_until(stopped, timeout=20, what="the answer stopped after the caller hung up")
    with schema_context(client.client.schema_name):
        answer = Message.objects.get(role="assistant")
        assert len(answer.content) < len("You said: ") + 200 * 4
