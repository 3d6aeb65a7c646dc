"""Redaction before the model, through the real web server, worker, Redis and
the local model server (we assert on what the server received over HTTP)."""

import json

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context

from chat.models import Message
from compliance import selectors, services
from compliance.models import AuditRecord, MessageRedaction
from llm import gateway
from tests.conftest import MODEL_KEY
from tests.support.accounts import signed_in_site
from tests.support.site import text_of

pytestmark = pytest.mark.worker
SECRET_EMAIL = "jane.doe@example.com"
SECRET_PHONE = "+1 415 555 0100"


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    result = make_client("redact")
    with schema_context(result.client.schema_name):
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      redaction_terms=["Project Falcon"])
    site = signed_in_site(web_server, result)
    return result, site


def test_model_receives_redacted_text_only_and_the_employee_sees_originals(acme, model):
    result, site = acme
    question = (f"Write to {SECRET_EMAIL} about Project Falcon and call {SECRET_PHONE}.")

    sent = site.ask(question)
    events = site.events(sent["answer"]["stream_url"])

    [request] = model.requests("/v1/chat/completions")
    body = request["body"]
    assert body["store"] is False
    raw = json.dumps(body)
    for original in (SECRET_EMAIL, "Project Falcon", "Falcon", "415 555 0100"):
        assert original not in raw
    assert body["messages"][-1]["content"] == (
        "Write to <EMAIL_1> about <TERM_1> and call <PHONE_1>.")
    # What the employee reads: the originals, streamed and stored.
    shown = text_of(events)
    assert shown == f"You said: {question}"
    assert "<EMAIL_1>" not in shown
    with schema_context(result.client.schema_name):
        assert Message.objects.get(pk=sent["answer"]["id"]).content == shown
    # ...and what was taken out of their message, live and after a reload.
    [note] = [e for e in events if e.event == "redacted"]
    assert {(i["original"], i["placeholder"]) for i in note.data["items"]} == {
        (SECRET_EMAIL, "<EMAIL_1>"), ("Project Falcon", "<TERM_1>"),
        (SECRET_PHONE, "<PHONE_1>")}
    assert events[-1].data["redacted"] == note.data["items"]
    page = site.http.get(sent["conversation_url"]).text
    assert f"Redacted before sending: {SECRET_EMAIL} → &lt;EMAIL_1&gt;" in page


def test_placeholders_stay_the_same_within_a_conversation(acme, model):
    result, site = acme
    first = site.ask(f"My address is {SECRET_EMAIL}.")
    site.events(first["answer"]["stream_url"])
    second = site.ask(f"Repeat {SECRET_EMAIL} and add bob@example.org",
                      first["conversation_id"])
    events = site.events(second["answer"]["stream_url"])

    body = model.requests("/v1/chat/completions")[-1]["body"]
    contents = [m["content"] for m in body["messages"]]
    assert "My address is <EMAIL_1>." in contents
    assert "You said: My address is <EMAIL_1>." in contents  # history, redacted again
    assert contents[-1] == "Repeat <EMAIL_1> and add <EMAIL_2>"
    assert SECRET_EMAIL not in json.dumps(body)
    assert text_of(events) == f"You said: Repeat {SECRET_EMAIL} and add bob@example.org"


def test_every_call_is_audited_without_content(acme, model):
    result, site = acme
    sent = site.ask(f"Mail {SECRET_EMAIL} please")
    site.events(sent["answer"]["stream_url"])

    with schema_context(result.client.schema_name):
        [record] = AuditRecord.objects.all()
        answer = Message.objects.get(pk=sent["answer"]["id"])
        assert record.kind == "chat" and record.status == "ok"
        assert record.user_email == "admin@example.com"
        assert record.conversation_id == answer.conversation_id
        assert record.endpoint == model.base_url
        assert record.model == "gpt-4o-mini"
        assert record.prompt_tokens == answer.prompt_tokens
        assert record.completion_tokens == answer.completion_tokens
        assert record.latency_ms > 0
        assert record.redactions == {"EMAIL_ADDRESS": 1}
        row = json.dumps({f.name: str(getattr(record, f.name))
                          for f in AuditRecord._meta.fields})
        assert SECRET_EMAIL not in row and "Mail" not in row
        assert services.verify_chain().ok


def test_redaction_can_be_turned_off_by_the_tenant_admin(acme, model):
    result, site = acme
    response = site.post("/settings/data-controls/", {
        "conversation_retention_days": "", "file_retention_days": "",
        "monthly_token_quota": "", "user_monthly_token_quota": "",
        "redaction_terms": "Project Falcon"})  # redaction_enabled unchecked
    assert response.status_code == 302
    sent = site.ask(f"Mail {SECRET_EMAIL}")
    site.events(sent["answer"]["stream_url"])

    body = model.requests("/v1/chat/completions")[-1]["body"]
    assert body["messages"][-1]["content"] == f"Mail {SECRET_EMAIL}"
    with schema_context(result.client.schema_name):
        assert not MessageRedaction.objects.exists()
        assert AuditRecord.objects.get().redactions == {}


def test_embeddings_are_redacted_and_audited(make_client, model):
    result = make_client("embed")
    endpoint = gateway.ModelEndpoint(api_key=MODEL_KEY, base_url=model.base_url)
    # The local model server is the platform's endpoint here, as in worker_env.
    with schema_context(result.client.schema_name), \
            override_settings(OPENAI_BASE_URL=model.base_url):
        vectors = gateway.embed(endpoint=endpoint, model="text-embedding-3-small",
                                texts=[f"Contact {SECRET_EMAIL}", "IBAN DE89370400440532013000"])
        [record] = AuditRecord.objects.all()

    assert len(vectors) == 2
    [request] = model.requests("/v1/embeddings")
    assert request["body"]["input"] == ["Contact <EMAIL_1>", "IBAN <IBAN_1>"]
    assert record.kind == "embed" and record.status == "ok"
    assert record.redactions == {"EMAIL_ADDRESS": 1, "IBAN_CODE": 1}
    assert settings.BASE_DOMAIN  # the platform is untouched


def test_monthly_quota_refuses_sending_with_a_clear_message(acme, model):
    result, site = acme
    sent = site.ask("Use some tokens")
    site.events(sent["answer"]["stream_url"])
    with schema_context(result.client.schema_name):
        used = selectors.tokens_used_this_month()
        assert used > 0
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      monthly_token_quota=used)

    refused = site.send("One more?")

    assert refused.status_code == 429
    assert "monthly allowance" in refused.json()["error"]
    regenerated = site.post(f"/answers/{sent['answer']['id']}/regenerate/")
    assert regenerated.status_code == 429, "regenerating spends tokens too"
    usage = site.http.get("/settings/data-controls/").text
    assert f"{used} tokens used of {used} (100%)" in usage and "quota reached" in usage


def test_per_user_quota_refuses_only_that_user(acme, model):
    result, site = acme
    sent = site.ask("Use some tokens")
    site.events(sent["answer"]["stream_url"])
    with schema_context(result.client.schema_name):
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      user_monthly_token_quota=1)

    refused = site.send("One more?")

    assert refused.status_code == 429 and "You have used your monthly allowance" in (
        refused.json()["error"])
