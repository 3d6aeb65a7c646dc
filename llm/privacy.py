"""The outbound privacy step of the model gateway: redact what leaves, restore
what comes back, and put every call on the audit trail.

The redaction engine (Presidio, spaCy) is imported on the first call that
redacts, not with this module: a web process that never redacts never loads it.

llm.gateway calls `redact_messages`/`redact_texts` before a request and
`finish_call` after it. The context carries who is asking and the
conversation's placeholder mapping; without one (say, ingestion calling
`gateway.embed`), `default_context` reads the current client's controls.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compliance import selectors as compliance_selectors
from compliance import services as compliance_services
from compliance.models import ConversationRedaction, MessageRedaction
from tenants.db import current_schema
from tenants.members import selectors as member_selectors

if TYPE_CHECKING:
    from compliance.redaction import StreamRestorer

logger = logging.getLogger(__name__)


@dataclass
class CallContext:
    """Who and what an outbound call is for, and how to redact it."""

    user_id: int | None = None
    user_email: str = ""
    conversation_id: int | None = None
    user_message_id: int | None = None  # the question whose redactions the employee sees
    redaction_enabled: bool = True
    entities: list[str] | None = None
    terms: list[str] = field(default_factory=list)
    # The client's directory: (key, given name, family name) per member.
    members: tuple[tuple[str, str, str], ...] = ()
    restore_secrets: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    # How to get a database connection (an llm worker thread passes db_slot).
    db: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    on_redacted: Callable[[list[dict]], None] | None = None
    # Filled in during the call.
    counts: Counter = field(default_factory=Counter)
    user_items: list[dict] = field(default_factory=list)


def load_context(*, user=None, conversation_id: int | None = None,
                 user_message_id: int | None = None,
                 db: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                 ) -> CallContext:
    """Read the client's controls (and the conversation's mapping); needs the database."""
    controls = compliance_selectors.get_data_controls()
    entities = list(controls.redaction_entities or [])
    members = (member_selectors.directory_names()
               if controls.redaction_enabled and "MEMBER_NAME" in entities else ())
    mapping = {}
    if conversation_id is not None:
        row = ConversationRedaction.objects.filter(conversation_id=conversation_id).first()
        mapping = dict(row.mapping) if row else {}
    return CallContext(
        user_id=getattr(user, "pk", None), user_email=getattr(user, "email", "") or "",
        conversation_id=conversation_id, user_message_id=user_message_id,
        redaction_enabled=controls.redaction_enabled,
        entities=entities, terms=list(controls.redaction_terms or []), members=members,
        restore_secrets=controls.restore_secrets, mapping=mapping, db=db,
    )


def for_embedding(context: CallContext) -> CallContext:
    """The same person and conversation, for the question's embedding call: its
    own redaction counts, and nothing that belongs to the chat call."""
    return CallContext(
        user_id=context.user_id, user_email=context.user_email,
        conversation_id=context.conversation_id, redaction_enabled=context.redaction_enabled,
        entities=context.entities, terms=context.terms, members=context.members,
        restore_secrets=context.restore_secrets, db=context.db,
    )


def default_context() -> CallContext:
    return load_context()


def describe(items) -> list[dict]:
    return [{"type": item.entity_type, "placeholder": item.placeholder,
             "original": item.original,
             "label": compliance_selectors.ENTITY_LABELS.get(item.entity_type,
                                                             item.entity_type)}
            for item in items]


def _redact(context: CallContext, text: str, *, mapping: dict[str, str]):
    if not context.redaction_enabled or not text:
        return None
    from compliance import redaction

    members = [redaction.Member(key, given, family) for key, given, family in context.members]
    result = redaction.redact(text, entities=context.entities, terms=context.terms,
                              mapping=mapping, members=members)
    context.counts.update(result.counts)
    return result


def redact_messages(context: CallContext, messages: list[dict[str, str]]
                    ) -> list[dict[str, str]]:
    """The messages as they may leave: personal data replaced by placeholders that
    stay the same all conversation long."""
    if not context.redaction_enabled:
        return messages
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"),
                    default=None)
    outbound = []
    for index, message in enumerate(messages):
        result = _redact(context, message.get("content") or "", mapping=context.mapping)
        if result is None:
            outbound.append(message)
            continue
        context.mapping = dict(result.mapping)
        if index == last_user:
            context.user_items = describe(result.items)
        outbound.append({**message, "content": result.text})
    if context.user_items and context.on_redacted is not None:
        context.on_redacted(context.user_items)
    return outbound


def redact_texts(context: CallContext, texts: list[str]) -> list[str]:
    """Embedding inputs, each redacted on its own (no conversation to keep)."""
    if not context.redaction_enabled:
        return texts
    outbound = []
    for text in texts:
        result = _redact(context, text, mapping={})
        outbound.append(text if result is None else result.text)
    return outbound


def restorer(context: CallContext) -> StreamRestorer:
    from compliance import redaction

    return redaction.StreamRestorer(mapping=restorable(context))


def restore(context: CallContext, text: str) -> str:
    from compliance import redaction

    return redaction.restore(text, mapping=restorable(context))


def restorable(context: CallContext) -> dict[str, str]:
    """The placeholders put back into answers: all of them, less secrets
    unless the client's admin chose to show them again."""
    if context.restore_secrets:
        return context.mapping
    return {p: v for p, v in context.mapping.items() if not p.startswith("<SECRET_")}


def finish_call(context: CallContext, *, kind: str, endpoint: str, model: str, status: str,
                prompt_tokens: int | None = None, completion_tokens: int | None = None,
                latency_ms: int = 0, error_kind: str = "") -> None:
    """Record the call on the audit trail (no content) and keep the mapping."""
    if not current_schema():  # pragma: no cover - no tenant set up at all
        return
    with context.db():
        compliance_services.append_audit(
            kind=kind, endpoint=endpoint, model=model, status=status,
            user_id=context.user_id, user_email=context.user_email,
            conversation_id=context.conversation_id, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, latency_ms=latency_ms,
            error_kind=error_kind, redactions=dict(context.counts),
        )
        if context.conversation_id is not None and context.mapping:
            ConversationRedaction.objects.update_or_create(
                conversation_id=context.conversation_id,
                defaults={"mapping": context.mapping})
        if context.user_message_id is not None and context.user_items:
            MessageRedaction.objects.update_or_create(
                message_id=context.user_message_id,
                defaults={"conversation_id": context.conversation_id or 0,
                          "items": context.user_items})
