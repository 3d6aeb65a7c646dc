"""Reads for chat. Everything is scoped to the current schema (the client) and,
where it concerns conversations, to one user: another user's or another
client's id simply does not match (404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from chat.models import BotConfig, Conversation, Message, Prompt
from chat.rendering import markdown_to_html_many
from compliance.models import MessageRedaction
from core import ids
from knowledge.search import CJKSearchQuery


def get_bot_config() -> BotConfig:
    """The client's bot configuration. A read: the row is created by a migration
    (in the template every client is cloned from); without it, the defaults,
    unsaved (a service that saves them creates row 1)."""
    return BotConfig.objects.order_by("pk").first() or BotConfig(pk=1)


def conversations_for(*, user) -> QuerySet[Conversation]:
    """The person's history (API calls not kept in it are left out)."""
    return (Conversation.objects.filter(user=user, in_history=True)
            .order_by("-updated", "-id"))


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
    """The conversation as shown, in order (ids grow along the shown path),
    each answer with what was redacted from its question (`redacted_items`, a
    list; read here in the same query, not one query per answer in the
    template)."""
    redactions = MessageRedaction.objects.filter(message_id=OuterRef("reply_to_id"))
    return (conversation.messages.filter(superseded=False)
            .annotate(redacted_items=Subquery(redactions.values("items")[:1]))
            .order_by("id"))


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


def feedback_for_review(*, rating: int | None = None, user_id: int | None = None,
                        since: dt.date | None = None, until: dt.date | None = None,
                        ) -> QuerySet[Message]:
    """Rated answers, newest rating first; optionally one rating (1 or -1), one
    person's, or rated between two days (inclusive)."""
    answers = (
        Message.objects.filter(role=Message.Role.ASSISTANT, feedback__isnull=False)
        .select_related("conversation__user", "reply_to")
        .order_by("-updated")
    )
    if rating is not None:
        answers = answers.filter(feedback=rating)
    if user_id:
        answers = answers.filter(conversation__user_id=user_id)
    if since:
        answers = answers.filter(updated__date__gte=since)
    if until:
        answers = answers.filter(updated__date__lte=until)
    return answers


def rated_exchange(*, message_id: int, turns: int = 6) -> tuple[Message, list[Message]]:
    """For a tenant admin reviewing feedback: a rated answer (404 for any other
    message; rating it is what shares it for review) and the turns of its
    conversation that led to it, oldest first: what the reviewer needs to judge
    the rating, not the whole conversation."""
    answer = get_object_or_404(
        Message.objects.select_related("conversation__user", "reply_to"),
        pk=message_id, role=Message.Role.ASSISTANT, feedback__isnull=False)
    before = Message.objects.filter(conversation_id=answer.conversation_id, superseded=False,
                                    created__lt=answer.created)
    if answer.reply_to_id is not None:
        before = before.exclude(pk=answer.reply_to_id)
    earlier = list(before.order_by("-created")[:max(0, turns - 2)])
    exchange = [*reversed(earlier)]
    if answer.reply_to is not None:
        exchange.append(answer.reply_to)
    exchange.append(answer)
    return answer, exchange


def get_message(*, user, message_id: int) -> Message:
    return get_object_or_404(Message.objects.select_related("conversation"),
                             pk=message_id, conversation__user=user)


@dataclass(frozen=True)
class Version:
    number: int  # 1-based, oldest first
    count: int
    previous_id: int | None
    next_id: int | None


def version_groups(*, conversation_id: int) -> tuple[dict[tuple, list[int]], dict[int, tuple]]:
    """Every message's versions (one query): messages of one role that follow
    the same message (an answer follows its question; questions without a
    parent are the first question's versions). Migration 0011 gave every
    earlier message its parent; the send path sets it."""
    groups: dict[tuple, list[int]] = {}
    key_of: dict[int, tuple] = {}
    for message_id, role, parent_id, reply_to_id in (
        Message.objects.filter(conversation_id=conversation_id).order_by("id")
        .values_list("id", "role", "parent_id", "reply_to_id")
    ):
        if role == Message.Role.ASSISTANT:
            key = (role, reply_to_id or parent_id)
        else:
            key = (role, parent_id)
        groups.setdefault(key, []).append(message_id)
        key_of[message_id] = key
    return groups, key_of


def _version(versions: list[int], message_id: int) -> Version:
    at = versions.index(message_id) if message_id in versions else 0
    return Version(number=at + 1, count=len(versions),
                   previous_id=versions[at - 1] if at > 0 else None,
                   next_id=versions[at + 1] if at + 1 < len(versions) else None)


def thread(*, conversation: Conversation) -> list[Message]:
    """The conversation as shown, in order, each message carrying `version`
    (its place among its versions), each answer `redacted` (what was taken out
    of its question) and `html` (its text rendered): a fixed number of queries
    and one cache read, whatever the length."""
    shown = list(visible_messages(conversation=conversation))
    groups, key_of = version_groups(conversation_id=conversation.pk)
    # Attributes for the templates (on these instances only).
    answers: list[Any] = [m for m in shown if m.role == Message.Role.ASSISTANT]
    for answer, rendered in zip(answers, markdown_to_html_many([a.content for a in answers]),
                                strict=True):
        answer.html = mark_safe(rendered)  # noqa: S308 - sanitized by markdown_to_html
        answer.redacted = answer.redacted_items or []
    for message in cast(list[Any], shown):
        message.version = _version(groups.get(key_of[message.pk], [message.pk]), message.pk)
    return shown


def version_of(*, message: Message) -> Version:
    """Where one message stands among its versions (as `thread` gives it)."""
    groups, key_of = version_groups(conversation_id=message.conversation_id)
    return _version(groups[key_of[message.pk]], message.pk)


# --- The sidebar ----------------------------------------------------------------------

SIDEBAR_PAGE_SIZE = 50
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_CURSOR_MICROS = ((dt.datetime(9999, 12, 31, tzinfo=dt.UTC) - _EPOCH)
                      // dt.timedelta(microseconds=1))


@dataclass(frozen=True)
class SidebarGroup:
    label: str
    conversations: list[Conversation]


@dataclass(frozen=True)
class SidebarPage:
    groups: list[SidebarGroup]
    next_cursor: str  # "" on the last page
    is_first: bool


def _cursor_of(conversation: Conversation) -> str:
    micros = (conversation.updated - _EPOCH) // dt.timedelta(microseconds=1)
    return f"{micros}.{conversation.pk}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    micros_text, _dot, pk_text = (cursor or "").partition(".")
    # Microseconds since 1970, up to the year 9999 (what a datetime holds).
    micros = ids.parse_id(micros_text, maximum=_MAX_CURSOR_MICROS)
    pk = ids.parse_id(pk_text)
    if micros is None or pk is None:
        return None
    return _EPOCH + dt.timedelta(microseconds=micros), pk


def _day_label(updated: dt.datetime, today: dt.date) -> str:
    days = (today - timezone.localtime(updated).date()).days
    if days <= 0:
        return gettext("Today")
    if days == 1:
        return gettext("Yesterday")
    if days <= 7:
        return gettext("Previous 7 days")
    return gettext("Older")


def sidebar_page(*, user, query: str = "", cursor: str = "",
                 size: int = SIDEBAR_PAGE_SIZE) -> SidebarPage:
    """One page of the sidebar, newest first, grouped by day: keyset paging on
    (updated, id), the index conv_user_recent, so the page after ten thousand
    conversations costs what the first one does."""
    conversations = (search_conversations(user=user, query=query) if query
                     else conversations_for(user=user))
    after = _parse_cursor(cursor)
    if after is not None:
        updated, pk = after
        conversations = conversations.filter(Q(updated__lt=updated) | Q(updated=updated, pk__lt=pk))
    rows = list(conversations.only("id", "title", "updated")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    today = timezone.localdate()
    groups: list[SidebarGroup] = []
    for conversation in rows:
        label = _day_label(conversation.updated, today)
        if not groups or groups[-1].label != label:
            groups.append(SidebarGroup(label=label, conversations=[]))
        groups[-1].conversations.append(conversation)
    return SidebarPage(groups=groups, next_cursor=_cursor_of(rows[-1]) if more else "",
                       is_first=after is None)


# --- The prompt library -----------------------------------------------------------------

def prompts() -> QuerySet[Prompt]:
    return Prompt.objects.order_by("title", "id")


def get_prompt(*, prompt_id: int) -> Prompt:
    return get_object_or_404(Prompt, pk=prompt_id)
