"""Retention and erasure of a person's data (conversations, messages, files);
the reads (export, the live facts of the data page) are in data_rights.selectors.
The settings and records themselves live in compliance."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from chat import services
from chat.models import Conversation
from compliance import selectors as compliance_selectors
from compliance import services as compliance_services
from compliance.models import ConversationRedaction, MessageRedaction, PurgeRecord
from knowledge import services as knowledge_services
from knowledge.models import KnowledgeFile

logger = logging.getLogger(__name__)


# --- Deleting ---------------------------------------------------------------------------

def _delete_files(files) -> int:
    """Delete knowledge files: rows, chunks (cascade), vectors, stored bytes."""
    count = 0
    for file in files:
        knowledge_services.delete_file(file=file)
        count += 1
    return count


def purge_expired(*, now: dt.datetime | None = None) -> PurgeRecord:
    """Delete what this client's retention settings say has expired, and record it.
    Safe to run twice: the second run finds nothing more to delete."""
    now = now or timezone.now()
    controls = compliance_selectors.get_data_controls()
    deleted = {"conversations": 0, "messages": 0, "attachments": 0, "files": 0,
               "stream_keys": 0}
    conversation_cutoff = file_cutoff = None
    if controls.conversation_retention_days is not None:
        conversation_cutoff = now - dt.timedelta(days=controls.conversation_retention_days)
        # A conversation expires when nothing happened in it for the whole period.
        expired = Conversation.objects.filter(updated__lt=conversation_cutoff)
        deleted.update(services.delete_conversations(conversations=expired))
    if controls.file_retention_days is not None:
        file_cutoff = now - dt.timedelta(days=controls.file_retention_days)
        deleted["files"] = _delete_files(
            KnowledgeFile.objects.filter(conversation__isnull=True, created__lt=file_cutoff))
    # API calls not kept in history whose caller went before the answer ended.
    deleted["unkept_api_conversations"] = services.delete_unkept_api_conversations(
        now=now)["conversations"]
    deleted["orphaned_redaction_records"] = _delete_orphaned_redactions()
    return compliance_services.record_purge(
        conversation_cutoff=conversation_cutoff, file_cutoff=file_cutoff, deleted=deleted)


def _delete_orphaned_redactions() -> int:
    """Placeholder mappings and redaction notes hold originals. Every deletion
    goes through services.delete_conversations, which removes them at once; this
    is the safety net for a conversation deleted outside it (a raw cascade)."""
    live = Conversation.objects.values("id")
    return (ConversationRedaction.objects.exclude(conversation_id__in=live).delete()[0]
            + MessageRedaction.objects.exclude(conversation_id__in=live).delete()[0])


def delete_user_conversations(*, user) -> dict[str, int]:
    return services.delete_conversations(conversations=Conversation.objects.filter(user=user))


def erase_member(*, user) -> dict[str, int]:
    """A tenant admin erases one member's data: conversations, messages,
    attachments and notice acceptances. The account itself is kept (remove it
    on the Members page); audit records keep only ids, counts and the e-mail."""
    result = delete_user_conversations(user=user)
    result["notice_acceptances"] = user.notice_acceptances.all().delete()[0]
    return result
