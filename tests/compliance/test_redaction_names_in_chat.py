"""Names, addresses and secrets through the real web server, worker, Redis and
the local model server: what the model receives over HTTP, and what the
employee reads back (the local server answers "You said: <the message>")."""

import json

import pytest
from django_tenants.utils import schema_context

from compliance import selectors, services
from compliance.models import AuditRecord
from tenants.members.models import User
from tests.support.accounts import signed_in_site
from tests.support.site import text_of

pytestmark = pytest.mark.worker


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    result = make_client("names")
    with schema_context(result.client.schema_name):
        for email, given, family in [("minsu@example.com", "민수", "김"),
                                     ("taro@example.com", "太郎", "田中"),
                                     ("john@example.com", "John", "Smith")]:
            User.objects.create_user(email=email, password="x" * 16, first_name=given,
                                     last_name=family)
    return result, signed_in_site(web_server, result)


@pytest.mark.parametrize(
    ("question", "sent_as", "leaked"),
    [
        ("김민수 과장님 연봉 조정안 정리해 줘. 주소는 서울특별시 강남구 테헤란로 152입니다.",
         "<PERSON_1> 과장님 연봉 조정안 정리해 줘. 주소는 <ADDRESS_1>입니다.",
         ["김민수", "테헤란로"]),
        ("田中太郎さんの住所は東京都港区芝公園4-2-8です",
         "<PERSON_1>さんの住所は<ADDRESS_1>です", ["田中", "芝公園"]),
        ("Draft a warning letter to John Smith, 12 Baker Street.",
         "Draft a warning letter to <PERSON_1>, <ADDRESS_1>.", ["Smith", "Baker"]),
    ],
    ids=["ko", "ja", "en"],
)
def test_names_and_addresses_leave_as_placeholders_and_read_back(acme, model, question,
                                                                 sent_as, leaked):
    result, site = acme
    sent = site.ask(question)
    events = site.events(sent["answer"]["stream_url"])

    body = model.requests("/v1/chat/completions")[-1]["body"]
    assert body["messages"][-1]["content"] == sent_as
    raw = json.dumps(body, ensure_ascii=False)
    for original in leaked:
        assert original not in raw
    assert text_of(events) == f"You said: {question}"
    with schema_context(result.client.schema_name):
        counts = AuditRecord.objects.get().redactions
    assert counts == {"MEMBER_NAME": 1, "POSTAL_ADDRESS": 1}


def test_a_pasted_secret_is_not_shown_again_unless_the_admin_chooses(acme, model):
    result, site = acme
    question = "Why does postgres://app:Tr0ub4dor%26@db.internal:5432/app refuse me?"
    sent = site.ask(question)
    events = site.events(sent["answer"]["stream_url"])

    body = model.requests("/v1/chat/completions")[-1]["body"]
    assert "Tr0ub4dor" not in json.dumps(body)
    assert text_of(events) == (
        "You said: Why does postgres://app:<SECRET_1>@db.internal:5432/app refuse me?")

    with schema_context(result.client.schema_name):
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      restore_secrets=True)
    again = site.ask(question, sent["conversation_id"])
    assert text_of(site.events(again["answer"]["stream_url"])) == f"You said: {question}"
