"""A Korean employee's message through the real web server, worker, Redis and
local model server: what reaches the model is redacted, what the employee
reads is the original (issue 13)."""

import json

import pytest
from django_tenants.utils import schema_context

from chat.models import Message
from compliance.models import AuditRecord
from tests.support.accounts import signed_in_site
from tests.support.site import text_of

pytestmark = pytest.mark.worker
EMAIL = "jane.doe@example.com"
RRN = "900101-1234568"
PHONE = "010-1234-5678"


def test_a_korean_message_reaches_the_model_redacted_and_comes_back_whole(
        make_client, web_server, celery_worker, model):
    result = make_client("kr-chat", country="KR")
    site = signed_in_site(web_server, result)
    question = (f"계약서는 {EMAIL}로 보내 주세요. 주민등록번호는 {RRN}이고 "
                f"연락처는{PHONE}입니다.")

    sent = site.ask(question)
    events = site.events(sent["answer"]["stream_url"])

    [request] = model.requests("/v1/chat/completions")
    raw = json.dumps(request["body"], ensure_ascii=False)
    for original in (EMAIL, RRN, PHONE, "1234568", "1234-5678"):
        assert original not in raw
    assert request["body"]["messages"][-1]["content"] == (
        "계약서는 <EMAIL_1>로 보내 주세요. 주민등록번호는 <RRN_1>이고 연락처는<PHONE_1>입니다.")
    # The local model echoes the question: placeholders with Hangul right
    # after them come back restored, streamed and stored.
    shown = text_of(events)
    assert shown == f"You said: {question}"
    with schema_context(result.client.schema_name):
        assert Message.objects.get(pk=sent["answer"]["id"]).content == shown
        assert AuditRecord.objects.get().redactions == {
            "EMAIL_ADDRESS": 1, "KR_RRN": 1, "PHONE_NUMBER": 1}
    [note] = [e for e in events if e.event == "redacted"]
    assert {(i["original"], i["placeholder"], i["type"]) for i in note.data["items"]} == {
        (EMAIL, "<EMAIL_1>", "EMAIL_ADDRESS"), (RRN, "<RRN_1>", "KR_RRN"),
        (PHONE, "<PHONE_1>", "PHONE_NUMBER")}
