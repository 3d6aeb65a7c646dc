"""One conversation-deletion service (chat.services.delete_conversations) for
every path: the sidebar, an employee deleting their data, an admin erasing a
member, the retention purge. The redaction rows (which hold the original
personal data), attachments with their bytes and the answer streams go with
the conversation at once, whichever path deletes it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from chat import streams
from chat.models import Conversation, Message
from compliance import selectors as compliance_selectors
from compliance import services as compliance_services
from compliance.models import ConversationRedaction, MessageRedaction
from data_rights import services as data_rights
from knowledge import services as knowledge_services
from knowledge.models import KnowledgeChunk, KnowledgeFile
from tenants.members.models import User
from tenants.members.services import create_member
from tests.support.accounts import PASSWORD, signed_in_client
from tests.support.doors import make_victim_objects

ROOT = Path(__file__).resolve().parents[3]


def _gone(schema: str, ids: dict[str, int], stored: Path) -> None:
    conversation = ids["conversation"]
    with schema_context(schema):
        assert not Conversation.objects.filter(pk=conversation).exists()
        assert not Message.objects.filter(conversation_id=conversation).exists()
        assert not MessageRedaction.objects.filter(conversation_id=conversation).exists()
        assert not ConversationRedaction.objects.filter(conversation_id=conversation).exists()
        assert not KnowledgeFile.objects.filter(pk=ids["attachment"]).exists()
        assert not KnowledgeChunk.objects.filter(pk=ids["attachment_chunk"]).exists()
        # The library is not the member's: it stays.
        assert KnowledgeFile.objects.filter(pk=ids["library_file"]).exists()
    assert not stored.exists(), "the attachment's bytes are erased"
    for answer in (ids["answer"], ids["pending_answer"]):
        assert not streams._client().exists(streams.key(schema, answer))


@pytest.mark.parametrize("path", ["sidebar", "my-data", "admin-erase", "retention"])
def test_every_deletion_path_removes_the_redaction_rows_at_once(path, make_client, host_client):
    result = make_client("del")
    schema = result.client.schema_name
    with schema_context(schema):
        victim = create_member(email="victim@example.com", password=PASSWORD)
        admin = User.objects.get(email="admin@example.com")
        ids = make_victim_objects(victim=victim, admin=admin)
        stored = knowledge_services.stored_path(KnowledgeFile.objects.get(pk=ids["attachment"]))
        for answer in (ids["answer"], ids["pending_answer"]):
            streams.append(schema, answer, "delta", {"text": "partial"})
        assert MessageRedaction.objects.filter(conversation_id=ids["conversation"]).exists()
    assert stored.exists()
    victim_browser = signed_in_client(result, "victim@example.com")
    admin_browser = signed_in_client(result)

    if path == "sidebar":
        response = victim_browser.post(f"/c/{ids['conversation']}/delete/")
        assert response.status_code == 302
    elif path == "my-data":
        response = victim_browser.post("/my-data/delete-conversations/")
        assert response.status_code == 302
    elif path == "admin-erase":
        response = admin_browser.post(f"/settings/member-data/{ids['member']}/erase/")
        assert response.status_code == 302
    else:
        with schema_context(schema):
            compliance_services.update_data_controls(
                controls=compliance_selectors.get_data_controls(),
                conversation_retention_days=30)
            Conversation.objects.filter(pk=ids["conversation"]).update(
                updated=timezone.now() - dt.timedelta(days=31))
            record = data_rights.purge_expired()
            assert record.deleted["conversations"] == 1
            assert record.deleted["orphaned_redaction_records"] == 0  # nothing left behind

    _gone(schema, ids, stored)


def test_no_code_deletes_conversations_outside_the_service():
    """A second way to delete would be a second place to forget something."""
    pattern = re.compile(r"(Conversation\.objects[^\n]*\.delete\(|conversation\.delete\()")
    offenders = []
    for folder in ("chat", "compliance", "tenants"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == ["chat/services.py:{}: Conversation.objects.filter(id__in=ids).delete()"
                         .format(_line_of("chat/services.py",
                                          "Conversation.objects.filter(id__in=ids).delete()"))]


def _line_of(relative: str, text: str) -> int:
    lines = (ROOT / relative).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)
