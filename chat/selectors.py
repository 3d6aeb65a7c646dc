"""Reads for chat. Everything is scoped to the current schema (the client) and,
where it concerns conversations, to one user: another user's or another
client's id simply does not match (404)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from chat.models import BotConfig, Conversation, Message
from compliance.models import MessageRedaction
from knowledge.search import CJKSearchQuery


def get_bot_config() -> BotConfig:
    """The client's bot configuration. A read: the row is created by a migration
    (in the template every client is cloned from); without it, the defaults,
    unsaved (a service that saves them creates row 1)."""
    return BotConfig.objects.order_by("pk").first() or BotConfig(pk=1)


def conversations_for(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).order_by("-updated", "-id")


def search_conversations(*, user, query: str) -> QuerySet[Conversation]:
    matches = Message.objects.filter(
        conversation=OuterRef("pk"), search=CJKSearchQuery(query, config="simple"),
    )
    title_or_text = conversations_for(user=user).filter(Exists(matches))
    by_title = conversations_for(user=user).filter(title__icontains=query)
    return (title_or_text | by_title).distinct()


def get_conversation(*, user, conversation_id: int) -> Conversation:
    return get_object_or_404(Conversation, pk=conversation_id, user=user)


def get_answer(*, user, message_id: int) -> Message:
    return get_object_or_404(
        Message.objects.select_related("conversation"),
        pk=message_id, role=Message.Role.ASSISTANT, conversation__user=user,
    )


def visible_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """The conversation as shown, each answer with what was redacted from its
    question (`redacted_items`, a list; read here in the same query, not one
    query per answer in the template)."""
    redactions = MessageRedaction.objects.filter(message_id=OuterRef("reply_to_id"))
    return (conversation.messages.filter(superseded=False)
            .annotate(redacted_items=Subquery(redactions.values("items")[:1]))
            .order_by("created", "id"))


def history_for(*, answer: Message, limit: int) -> list[Message]:
    """The earlier turns sent with a question: finished, current ones only."""
    if limit <= 0:
        return []
    earlier = (
        Message.objects.filter(conversation_id=answer.conversation_id, superseded=False,
                               id__lt=answer.reply_to_id)
        .exclude(role=Message.Role.ASSISTANT, status__in=[
            Message.Status.PENDING, Message.Status.STREAMING, Message.Status.FAILED])
        .exclude(offline=True)
        .order_by("-id")[:limit]
    )
    return list(reversed(earlier))


def feedback_for_review() -> QuerySet[Message]:
    return (
        Message.objects.filter(role=Message.Role.ASSISTANT, feedback__isnull=False)
        .select_related("conversation__user", "reply_to")
        .order_by("-updated")
    )
