"""Receivers for knowledge models, connected in KnowledgeConfig.ready."""

from __future__ import annotations

from django.db import transaction

from knowledge.models import KnowledgeFile
from knowledge.storage import stored_path


def remove_stored_bytes(sender, instance: KnowledgeFile, **kwargs) -> None:
    """Erase a deleted file's stored bytes once the deletion commits.

    A receiver rather than a service call because files are also deleted by
    cascade (a conversation, and with it its attachments; a user's
    conversations), which no service of ours sees.
    """
    path = stored_path(instance)
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
