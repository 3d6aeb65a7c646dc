"""Retention deletes exactly what expired; people export and delete their data;
tenant admins export and erase a member's; the first-use notice is accepted once."""

import json

from django_tenants.utils import schema_context

from chat.models import Conversation, Message
from compliance import selectors, services
from compliance.models import (
    ConversationRedaction,
    MessageRedaction,
    NoticeAcceptance,
    PurgeRecord,
)
from data_rights import selectors as data_rights_selectors
from data_rights import services as data_rights
from knowledge import services as knowledge_services
from knowledge.models import KnowledgeFile
from tenants.members.models import User
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD, signed_in_client
from tests.support.factories import (
    AnswerFactory,
    ConversationFactory,
    KnowledgeFileFactory,
    QuestionFactory,
)


def conversation(user, title: str, *, age_days: float, texts=("Hello", "Hi")) -> Conversation:
    """A question and its answer, with the question's redaction rows."""
    chat = ConversationFactory(user=user, title=title, age_days=age_days)
    question = QuestionFactory(conversation=chat, content=texts[0])
    AnswerFactory(reply_to=question, content=texts[1])
    MessageRedaction.objects.create(message_id=question.pk, conversation_id=chat.pk,
                                    items=[{"type": "EMAIL_ADDRESS", "placeholder": "<EMAIL_1>",
                                            "original": "a@b.example", "label": "E-mail"}])
    ConversationRedaction.objects.create(conversation_id=chat.pk,
                                         mapping={"<EMAIL_1>": "a@b.example"})
    return chat


def stored_file(user, name: str, *, age_days: float, conversation=None) -> KnowledgeFile:
    return KnowledgeFileFactory(display_name=name, uploaded_by=user, conversation=conversation,
                                age_days=age_days)


def test_retention_deletes_exactly_what_expired_and_records_the_purge(make_client):
    result = make_client("retain")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      conversation_retention_days=30, file_retention_days=10)
        old = conversation(admin, "old", age_days=31)
        attachment = stored_file(admin, "attached", age_days=1, conversation=old)
        edge = conversation(admin, "edge", age_days=29.9)
        fresh = conversation(admin, "fresh", age_days=0)
        old_file = stored_file(admin, "old-file", age_days=11)
        new_file = stored_file(admin, "new-file", age_days=9)
        old_path = knowledge_services.stored_path(old_file)
        attachment_path = knowledge_services.stored_path(attachment)

        record = data_rights.purge_expired()
        again = data_rights.purge_expired()

        assert set(Conversation.objects.values_list("title", flat=True)) == {"edge", "fresh"}
        assert not Message.objects.filter(conversation_id=old.pk).exists()
        assert Message.objects.filter(conversation__in=[edge, fresh]).count() == 4
        assert set(KnowledgeFile.objects.values_list("display_name", flat=True)) == {"new-file"}
        assert not old_path.exists() and not attachment_path.exists()
        assert knowledge_services.stored_path(new_file).exists()
        assert not MessageRedaction.objects.filter(conversation_id=old.pk).exists()
        assert not ConversationRedaction.objects.filter(conversation_id=old.pk).exists()
        assert MessageRedaction.objects.count() == 2
        assert record.deleted == {"conversations": 1, "messages": 2, "attachments": 1,
                                  "files": 1, "stream_keys": 1,
                                  "unkept_api_conversations": 0,
                                  "orphaned_redaction_records": 0}
        assert again.deleted["conversations"] == 0 and again.deleted["files"] == 0
        assert PurgeRecord.objects.count() == 2
        assert data_rights_selectors.workspace_facts()["Last purge"] != "Never run"


def test_purge_drops_redaction_records_of_conversations_deleted_elsewhere(make_client):
    result = make_client("retain")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        gone, kept = conversation(admin, "gone", age_days=0), conversation(admin, "kept",
                                                                          age_days=0)
        # Outside the deletion service (which removes them at once): a raw cascade.
        Conversation.objects.filter(pk=gone.pk).delete()

        record = data_rights.purge_expired()

        assert record.deleted["orphaned_redaction_records"] == 2
        assert set(ConversationRedaction.objects.values_list("conversation_id", flat=True)) \
            == {kept.pk}
        assert MessageRedaction.objects.get().conversation_id == kept.pk


def test_forever_keeps_everything(make_client):
    result = make_client("retain")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        conversation(admin, "ancient", age_days=3650)
        stored_file(admin, "ancient-file", age_days=3650)

        record = data_rights.purge_expired()

        assert Conversation.objects.count() == 1 and KnowledgeFile.objects.count() == 1
        assert record.deleted["conversations"] == 0 and record.conversation_cutoff is None


def test_beat_task_runs_the_purge_in_the_clients_schema(make_client):
    from data_rights.tasks import purge_expired_data

    result = make_client("retain")
    with schema_context(result.client.schema_name):
        services.update_data_controls(controls=selectors.get_data_controls(),
                                      conversation_retention_days=1)
        conversation(User.objects.get(email="admin@example.com"), "old", age_days=2)
        assert purge_expired_data.apply().get()["conversations"] == 1


def test_beat_is_tenant_aware():
    from django.conf import settings
    from django.utils.module_loading import import_string
    from tenant_schemas_celery.scheduler import TenantAwareScheduler

    assert issubclass(import_string(settings.CELERY_BEAT_SCHEDULER), TenantAwareScheduler)
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-data"]
    assert entry["task"] == "data_rights.purge_expired_data"
    assert "tenant_schemas" not in entry  # None: every client's schema


def test_export_contains_my_data_and_no_one_elses(make_client, host_client):
    result = make_client("export")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        member = create_member(email="worker@example.com", password=PASSWORD)
        mine = conversation(member, "my plans", age_days=0,
                            texts=("My secret plan", "Noted"))
        stored_file(member, "my-notes", age_days=0, conversation=mine)
        conversation(admin, "admin stuff", age_days=0, texts=("Admin's secret", "Ok"))
    browser = signed_in_client(result, "worker@example.com")

    response = browser.get("/my-data/export/")

    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["user"]["email"] == "worker@example.com"
    [chat] = data["conversations"]
    assert chat["title"] == "my plans"
    assert [m["content"] for m in chat["messages"]] == ["My secret plan", "Noted"]
    assert chat["attachments"][0]["name"] == "my-notes"
    assert chat["messages"][0]["redacted_before_sending"] == [
        {"kind": "E-mail", "placeholder": "<EMAIL_1>"}]
    raw = response.content.decode()
    assert "Admin's secret" not in raw and "admin stuff" not in raw
    assert "admin@example.com" not in raw


def test_people_delete_their_conversations_only(make_client, host_client):
    result = make_client("erase")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        member = create_member(email="worker@example.com", password=PASSWORD)
        conversation(member, "mine 1", age_days=0)
        conversation(member, "mine 2", age_days=0)
        conversation(admin, "theirs", age_days=0)
    browser = signed_in_client(result, "worker@example.com")

    response = browser.post("/my-data/delete-conversations/")

    assert response.status_code == 302
    with schema_context(result.client.schema_name):
        assert list(Conversation.objects.values_list("title", flat=True)) == ["theirs"]
        assert Message.objects.count() == 2


def test_admin_exports_and_erases_a_member(make_client, host_client):
    result = make_client("erase")
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        member = create_member(email="worker@example.com", password=PASSWORD)
        conversation(member, "member chat", age_days=0)
        conversation(admin, "admin chat", age_days=0)
        NoticeAcceptance.objects.create(user=member, version=1)
    admin_browser = signed_in_client(result)
    member_browser = signed_in_client(result, "worker@example.com")

    listing = admin_browser.get("/settings/member-data/")
    export = admin_browser.get(f"/settings/member-data/{member.pk}/export/")
    refused = member_browser.post(f"/settings/member-data/{admin.pk}/erase/")
    erased = admin_browser.post(f"/settings/member-data/{member.pk}/erase/")

    assert "worker@example.com" in listing.content.decode()
    assert json.loads(export.content)["conversations"][0]["title"] == "member chat"
    assert refused.status_code == 403
    assert erased.status_code == 302
    with schema_context(result.client.schema_name):
        assert list(Conversation.objects.values_list("title", flat=True)) == ["admin chat"]
        assert not NoticeAcceptance.objects.filter(user=member).exists()
        assert User.objects.filter(email="worker@example.com").exists()


def test_first_use_notice_is_shown_until_accepted_once(make_client, host_client):
    result = make_client("notice")
    with schema_context(result.client.schema_name):
        create_member(email="worker@example.com", password=PASSWORD)
    browser = signed_in_client(result, "worker@example.com")

    first = browser.get("/").content.decode()
    accepted = browser.post("/compliance/notice/accept/", {"next": "/"})
    later = browser.get("/").content.decode()
    again = signed_in_client(result, "worker@example.com")

    assert 'id="data-notice"' in first and "E-mail addresses" in first
    assert accepted.status_code == 302
    assert 'id="data-notice"' not in later
    assert 'id="data-notice"' not in again.get("/").content.decode()
    with schema_context(result.client.schema_name):
        [acceptance] = NoticeAcceptance.objects.all()
        assert acceptance.user.email == "worker@example.com" and acceptance.version == 1
