"""Writes for chat: bot configuration, conversations, and the life of an answer."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import llm
from chat import leases, selectors, slots, streams
from chat.models import BotConfig, Conversation, Message, Prompt, SendRequest
from chat.rendering import markdown_to_html
from compliance import services as compliance_services
from compliance.models import ConversationRedaction, MessageRedaction
from core import rate_limits, secrets
from core.tasks import enqueue_on_commit
from llm import connection_errors, model_endpoint
from tenants.db import current_schema

logger = logging.getLogger(__name__)


class ChatError(Exception):
    """A chat action was refused; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds, for a 429: when trying again may pass


# --- Bot configuration -----------------------------------------------------------

def update_bot_config(*, config: BotConfig, api_key: str | None = None,
                      clear_api_key: bool = False, **fields) -> BotConfig:
    """Save the bot's settings; a base URL of the client's own is checked
    against the outbound URL policy and needs the client's own key
    (ValidationError per field otherwise)."""
    for name, value in fields.items():
        setattr(config, name, value)
    if clear_api_key:
        config.api_key_encrypted, config.api_key_last4 = "", ""
    elif api_key:
        config.api_key_encrypted = secrets.encrypt(api_key)
        config.api_key_last4 = api_key[-4:]
    errors = connection_errors(base_url=config.base_url,
                               has_own_key=bool(config.api_key_encrypted))
    if errors:
        raise ValidationError(errors)
    config.full_clean()
    config.save()
    return config


def rotate_api_key(*, config: BotConfig) -> bool:
    """Re-encrypt a stored client key with the newest encryption key."""
    if not config.api_key_encrypted:
        return False
    config.api_key_encrypted = secrets.rotate(config.api_key_encrypted)
    config.save(update_fields=["api_key_encrypted", "updated"])
    return True


@dataclass
class TypedConnection:
    """Connection settings typed in the Bot settings form, not saved (they only
    ever live in one Test connection request)."""

    base_url: str
    api_key_encrypted: str
    organization: str
    project: str
    model: str


def test_bot_connection(*, config: BotConfig, typed: dict | None = None) -> str:
    """Call the model endpoint once (retrieve the model), with the saved settings
    or, given `typed` (model, base_url, organization, project, api_key,
    clear_api_key from the unsaved form), with those: the same URL policy and
    key rules as saving (the platform key never goes to a URL the client chose;
    a base URL of its own needs its own key, typed or stored). Nothing typed is
    saved; a typed key lives in this call only."""
    settings_: BotConfig | TypedConnection = config
    if typed is not None:
        if typed.get("clear_api_key"):
            key = ""
        elif typed.get("api_key"):
            key = secrets.encrypt(typed["api_key"])
        else:
            key = config.api_key_encrypted
        settings_ = TypedConnection(
            base_url=typed.get("base_url") or "", api_key_encrypted=key,
            organization=typed.get("organization") or "", project=typed.get("project") or "",
            model=typed.get("model") or config.model)
        errors = connection_errors(base_url=settings_.base_url, has_own_key=bool(key))
        if errors:
            message = " ".join(str(text) for text in errors.values())
            raise llm.GatewayError("refused", user_message=message, admin_message=message)
    endpoint = model_endpoint(settings_)
    if endpoint is None:
        raise llm.GatewayError(
            "offline",
            user_message=gettext("No API key is configured."),
            admin_message=gettext("No API key is configured: enter one under Connection, or "
                                  "ask the platform operator to set OPENAI_API_KEY."),
        )
    return llm.check_connection(endpoint=endpoint, model=settings_.model)


# --- Conversations -----------------------------------------------------------------

def rename_conversation(*, conversation: Conversation, title: str) -> Conversation:
    title = " ".join(title.split())[:200]
    if not title:
        raise ChatError(gettext("A title cannot be empty."))
    conversation.title = title
    conversation.save(update_fields=["title", "updated"])
    return conversation


def delete_conversations(*, conversations) -> dict[str, int]:
    """The one way conversations are deleted (the sidebar, an employee deleting
    their data, an admin erasing a member, the retention purge): messages,
    attachments (rows, chunks, vectors, stored bytes), the placeholder mappings
    and redaction notes (they hold the original personal data) go together in
    one transaction; then the answer streams in Redis (best effort: they
    expire on their own)."""
    from knowledge import services as knowledge_services
    from knowledge.models import KnowledgeFile

    schema = current_schema()
    ids = list(conversations.values_list("id", flat=True))
    if not ids:
        return {"conversations": 0, "messages": 0, "attachments": 0, "stream_keys": 0}
    answer_ids = list(Message.objects.filter(conversation_id__in=ids,
                                             role=Message.Role.ASSISTANT)
                      .values_list("id", flat=True))
    with transaction.atomic():
        messages = Message.objects.filter(conversation_id__in=ids).count()
        attachments = 0
        for file in KnowledgeFile.objects.filter(conversation_id__in=ids):
            knowledge_services.delete_file(file=file)
            attachments += 1
        MessageRedaction.objects.filter(conversation_id__in=ids).delete()
        ConversationRedaction.objects.filter(conversation_id__in=ids).delete()
        Conversation.objects.filter(id__in=ids).delete()
    with contextlib.suppress(streams.StreamUnavailable):
        for answer_id in answer_ids:
            streams.discard(schema, answer_id)
    return {"conversations": len(ids), "messages": messages, "attachments": attachments,
            "stream_keys": len(answer_ids)}


def delete_conversation(*, conversation: Conversation) -> dict[str, int]:
    return delete_conversations(conversations=Conversation.objects.filter(pk=conversation.pk))


# --- Sending ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    count, _, period = text.partition("/")
    seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[period.strip() or "minute"]
    return Rate(int(count), seconds)


def check_rate_limits(*, user) -> None:
    """Fixed-window counters per user and per client (one Redis round trip);
    doubles as the check that Redis answers before anything is stored."""
    schema = current_schema()
    per_user = parse_rate(settings.CHAT_RATE_LIMIT_PER_USER)
    per_client = parse_rate(settings.CHAT_RATE_LIMIT_PER_CLIENT)
    try:
        user_count, client_count = rate_limits.count_hits([
            (f"user:{schema}:{user.pk}", per_user.seconds),
            (f"client:{schema}", per_client.seconds),
        ])
    except streams.StreamUnavailable as exc:
        raise _unavailable() from exc
    if user_count > per_user.count:
        raise ChatError(
            gettext("You are sending messages faster than allowed. Wait a minute and try again."),
            status=429, retry_after=per_user.seconds,
        )
    if client_count > per_client.count:
        raise ChatError(
            gettext("Your company's assistant is receiving too many messages right now. "
                    "Try again in a minute."),
            status=429, retry_after=per_client.seconds,
        )


def unavailable_message() -> str:
    """What a person is told whenever Redis (answer streams, rate limits, the
    task queue) fails on the send, stop or stream path."""
    return gettext(
        "The assistant is temporarily unavailable (its message service is down). Your "
        "conversation is safe; please try again in a moment.")


def _unavailable() -> ChatError:
    return ChatError(unavailable_message(), status=503)


def _validate_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ChatError(gettext("Type a message first."))
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise ChatError(
            gettext("Your message is %(length)s characters long; the limit is %(limit)s. "
                    "Shorten it or split it into several messages.")
            % {"length": formats.number_format(len(text), force_grouping=True),
               "limit": formats.number_format(limit, force_grouping=True)}
        )
    return text


def _check_allowance(*, user) -> None:
    """Rate limits (which also prove Redis answers) and token quotas: checked
    before anything is stored, for new questions and regenerated answers alike."""
    check_rate_limits(user=user)
    try:
        compliance_services.check_quota(user_id=user.pk)
    except compliance_services.QuotaReached as exc:
        raise ChatError(exc.message, status=429, retry_after=_seconds_to_next_month()) from exc


def _seconds_to_next_month() -> int:
    """Monthly quotas start again on the 1st (UTC)."""
    now = timezone.now()
    first = (now.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((first - now).total_seconds()))


@dataclass(frozen=True)
class Sent:
    answer: Message
    repeated: bool = False  # the same request id was sent before: its first result


REQUEST_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _validate_request_id(request_id: str) -> str:
    request_id = (request_id or "").strip()
    if request_id and (len(request_id) > 64 or not set(request_id) <= REQUEST_ID_CHARS):
        raise ChatError(gettext("This message's request id is not valid (up to 64 letters, "
                                "digits and dashes). Reload the page and send it again."))
    return request_id


def _first_result(*, user, request_id: str) -> Message | None:
    if not request_id:
        return None
    earlier = (SendRequest.objects.select_related("answer__conversation", "answer__reply_to")
               .filter(user=user, request_id=request_id).first())
    return earlier.answer if earlier else None


def send_message(*, user, conversation: Conversation | None, text: str,
                 request_id: str = "", edit_of: Message | None = None) -> Sent:
    """Store the question and a pending answer (in a new conversation when none
    is given); a worker writes the answer.

    `request_id` (the browser's, one per composed message): a repeat — a
    double click, a retried request, two requests at the same moment — gets
    the first one's answer back, and nothing is stored twice (a unique index
    decides between simultaneous ones).

    `edit_of` (a question of this conversation, as shown): the text is a new
    version of it; the turns after it stay on the branch left behind, reachable
    with the version switcher."""
    request_id = _validate_request_id(request_id)
    first = _first_result(user=user, request_id=request_id)
    if first is not None:
        return Sent(first, repeated=True)
    if edit_of is not None:
        _check_editable(question=edit_of, conversation=conversation)
    text = _validate_text(text)
    if conversation is not None and _answer_in_progress(conversation):
        # The answer being written may be this very request's (a twin sent at
        # the same moment committed it since the lookup above).
        first = _first_result(user=user, request_id=request_id)
        if first is not None:
            return Sent(first, repeated=True)
        raise ChatError(gettext("Wait for the current answer to finish, or stop it, before "
                                "sending another message."), status=409)
    try:
        _check_allowance(user=user)
    except ChatError:  # a twin's hits may have filled the window: its result, if any
        first = _first_result(user=user, request_id=request_id)
        if first is not None:
            return Sent(first, repeated=True)
        raise
    config = selectors.get_bot_config()
    try:
        with transaction.atomic():
            if conversation is None:
                conversation = Conversation.objects.create(user=user, title=_title_from(text))
            else:
                if conversation.title == "New chat":
                    conversation.title = _title_from(text)
                conversation.save(update_fields=["title", "updated"])  # moves it to the top
            if edit_of is not None:
                parent_id = edit_of.parent_id
                _versions_of(edit_of).update(chosen=False)
            else:
                parent_id = _last_shown_id(conversation)
            question = Message.objects.create(
                conversation=conversation, role=Message.Role.USER, content=text,
                parent_id=parent_id,
            )
            answer = Message.objects.create(
                conversation=conversation, role=Message.Role.ASSISTANT, reply_to=question,
                parent=question, status=Message.Status.PENDING, model=config.model,
            )
            if edit_of is not None:
                refresh_path(conversation=conversation)
            if request_id:
                # Waits here while a simultaneous twin's transaction is open;
                # fails once it committed (everything above is rolled back).
                SendRequest.objects.create(user=user, request_id=request_id, answer=answer)
            _enqueue_on_commit(answer)
    except IntegrityError:
        first = _first_result(user=user, request_id=request_id)
        if first is None:
            raise
        logger.info("Send request %s arrived twice at once; answered with the first result",
                    request_id)
        return Sent(first, repeated=True)
    return Sent(answer)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation a caller of the API sends along."""

    role: str  # "user" or "assistant"
    content: str


def send_api_question(*, user, turns: list[Turn], keep: bool,
                      config: BotConfig | None = None) -> Message:
    """A question from the OpenAI-compatible API (issue 26), answered the
    browser's way: the same allowance (rate limits, quotas), the client's
    line of answers in flight, the llm worker (instructions, knowledge,
    redaction, audit, store=False).

    The caller's conversation so far (`turns`, ending with the question) is
    stored as a conversation of the person's, so the worker reads its
    history as it reads a browser conversation's. `keep=False` (the
    default of the API): it is not in the person's history and is deleted
    once the answer ends (`end_api_question`); only the audit record of the
    model call remains."""
    if not turns or turns[-1].role != Message.Role.USER:
        raise ChatError(gettext("The last message must be the user's question."))
    question_text = _validate_text(turns[-1].content)
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    for turn in turns[:-1]:
        if len(turn.content) > limit:
            raise ChatError(
                gettext("An earlier message is %(length)s characters long; the limit is "
                        "%(limit)s.")
                % {"length": formats.number_format(len(turn.content), force_grouping=True),
                   "limit": formats.number_format(limit, force_grouping=True)})
    _check_allowance(user=user)
    config = config or selectors.get_bot_config()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            user=user, title=_title_from(question_text), source=Conversation.Source.API,
            in_history=keep)
        parent_id = None
        for turn in turns[:-1]:
            if not turn.content.strip():
                continue
            parent_id = Message.objects.create(
                conversation=conversation, role=turn.role, content=turn.content,
                parent_id=parent_id, status=Message.Status.DONE).pk
        question = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content=question_text,
            parent_id=parent_id)
        answer = Message.objects.create(
            conversation=conversation, role=Message.Role.ASSISTANT, reply_to=question,
            parent=question, status=Message.Status.PENDING, model=config.model)
        _enqueue_on_commit(answer)
    return answer


def end_api_question(*, answer_id: int) -> Message | None:
    """The caller has the answer (or went away): a finished answer not kept
    in history is deleted now; one still being written is told to stop (the
    caller no longer reads it) and left to the sweep (delete_unkept_api_conversations).
    Returns the answer as stored before any deletion."""
    answer = (Message.objects.select_related("conversation")
              .filter(pk=answer_id, role=Message.Role.ASSISTANT).first())
    if answer is None:
        return None
    if not answer.is_finished:
        with contextlib.suppress(ChatError):
            stop(answer=answer)
        return answer
    if not answer.conversation.in_history:
        delete_conversation(conversation=answer.conversation)
    return answer


UNKEPT_API_GRACE = timedelta(hours=1)


def delete_unkept_api_conversations(*, now=None) -> dict[str, int]:
    """The safety net of end_api_question (a caller gone while its answer was
    written, a web process that died): API conversations not kept in history
    and older than an hour (longer than any answer is written) go."""
    cutoff = (now or timezone.now()) - UNKEPT_API_GRACE
    return delete_conversations(conversations=Conversation.objects.filter(
        in_history=False, created__lt=cutoff))


def regenerate(*, answer: Message) -> Message:
    """A new answer to the same question; the old one stays as an earlier
    version (and with it the turns that followed it)."""
    if not answer.is_finished:
        raise ChatError(gettext("This answer is still being written; stop it first."), status=409)
    if answer.superseded:
        raise ChatError(gettext("This answer was already replaced."), status=409)
    if _answer_in_progress(answer.conversation):
        raise ChatError(gettext("Wait for the current answer to finish, or stop it, before "
                                "asking for another answer."), status=409)
    _check_allowance(user=answer.conversation.user)
    config = selectors.get_bot_config()
    with transaction.atomic():
        # One answer in progress per conversation: two regenerates at the same
        # moment meet here, and the second sees the first one's answer.
        Conversation.objects.select_for_update().filter(pk=answer.conversation_id).first()
        if _answer_in_progress(answer.conversation):
            raise ChatError(gettext("Wait for the current answer to finish, or stop it, "
                                    "before asking for another answer."), status=409)
        _versions_of(answer).update(chosen=False)
        fresh = Message.objects.create(
            conversation=answer.conversation, role=Message.Role.ASSISTANT,
            reply_to=answer.reply_to, parent_id=answer.reply_to_id,
            status=Message.Status.PENDING, model=config.model,
        )
        refresh_path(conversation=answer.conversation)
        _enqueue_on_commit(fresh)
    return fresh


# --- Versions ----------------------------------------------------------------------

def _versions_of(message: Message):
    """The message and its other versions (selectors.version_groups)."""
    groups, key_of = selectors.version_groups(conversation_id=message.conversation_id)
    return Message.objects.filter(pk__in=groups[key_of[message.pk]])


def _last_shown_id(conversation: Conversation) -> int | None:
    return (Message.objects.filter(conversation=conversation, superseded=False)
            .order_by("-id").values_list("id", flat=True).first())


def _answer_in_progress(conversation: Conversation) -> bool:
    return conversation.messages.filter(
        role=Message.Role.ASSISTANT,
        status__in=[Message.Status.PENDING, Message.Status.STREAMING]).exists()


def _check_editable(*, question: Message, conversation: Conversation | None) -> None:
    if (conversation is None or question.conversation_id != conversation.pk
            or question.role != Message.Role.USER or question.superseded):
        raise ChatError(gettext("This message cannot be edited: it is not shown in this "
                                "conversation any more. Reload the page."), status=409)


def refresh_path(*, conversation: Conversation) -> None:
    """Mark what the conversation shows: from the first question down, the
    chosen version at each step (the newest when none is chosen); everything
    else is superseded. Ids grow along any path, so the shown messages read in
    id order are the conversation in order."""
    rows = list(Message.objects.filter(conversation=conversation).order_by("id")
                .values_list("id", "role", "parent_id", "reply_to_id", "chosen", "superseded"))
    children: dict[int | None, list[tuple[int, bool]]] = {}
    for message_id, role, parent_id, reply_to_id, chosen, _superseded in rows:
        # An answer follows its question (also one stored without a parent);
        # a question without one is the first (or a version of the first).
        follows = (parent_id or reply_to_id) if role == Message.Role.ASSISTANT else parent_id
        children.setdefault(follows, []).append((message_id, chosen))
    shown: set[int] = set()
    node: int | None = None
    while children.get(node):
        versions = sorted(children[node], reverse=True)
        node = next((m for m, chosen in versions if chosen), versions[0][0])
        if node in shown:
            break  # not a tree (cannot happen from the send path): stop, not loop
        shown.add(node)
    hide = [row[0] for row in rows if row[0] not in shown and not row[-1]]
    show = [row[0] for row in rows if row[0] in shown and row[-1]]
    if hide:
        Message.objects.filter(pk__in=hide).update(superseded=True)
    if show:
        Message.objects.filter(pk__in=show).update(superseded=False)


def show_version(*, message: Message) -> None:
    """Show this version of a question or an answer (and the turns that
    followed it when it was last shown)."""
    conversation = message.conversation
    if _answer_in_progress(conversation):
        raise ChatError(gettext("Wait for the current answer to finish, or stop it, before "
                                "switching versions."), status=409)
    with transaction.atomic():
        _versions_of(message).exclude(pk=message.pk).update(chosen=False)
        Message.objects.filter(pk=message.pk).update(chosen=True)
        refresh_path(conversation=conversation)


# --- Prompt library ------------------------------------------------------------------

def save_prompt(*, prompt: Prompt | None = None, title: str, text: str) -> Prompt:
    prompt = prompt or Prompt()
    prompt.title = " ".join((title or "").split())
    prompt.text = (text or "").strip()
    prompt.full_clean()
    prompt.save()
    return prompt


def delete_prompt(*, prompt: Prompt) -> None:
    prompt.delete()


def stop(*, answer: Message) -> None:
    """Stop an answer: a pending one is cancelled here, a streaming one is told
    to stop (the worker checks the flag). Redis down: ChatError 503 and nothing
    changed (a cancellation commits only once its stream event is written, so
    no browser waits on an answer cancelled behind its back)."""
    schema = current_schema()
    try:
        if answer.status == Message.Status.PENDING:
            with transaction.atomic():
                updated = Message.objects.filter(
                    pk=answer.pk, status=Message.Status.PENDING).update(
                    status=Message.Status.CANCELLED, updated=timezone.now())
                if updated:
                    streams.append(schema, answer.pk, "cancelled", {"html": ""})
            if updated:
                _answer_ended(schema, answer.pk)  # it may have been waiting in line
                return
        if answer.status in (Message.Status.PENDING, Message.Status.STREAMING):
            streams.request_stop(schema, answer.pk)
    except streams.StreamUnavailable as exc:
        raise _unavailable() from exc


def set_feedback(*, answer: Message, value: int | None, comment: str = "") -> Message:
    if value not in (1, -1, None):
        raise ChatError(gettext("Feedback is thumbs up (1) or down (-1)."))
    answer.feedback = value
    answer.feedback_comment = (comment or "").strip()[:2000]
    answer.save(update_fields=["feedback", "feedback_comment", "updated"])
    return answer


def _title_from(text: str) -> str:
    words = " ".join(text.split())
    return words[:60] + ("…" if len(words) > 60 else "")


def answers_in_flight_limits(schema: str | None = None) -> slots.Limits:
    """How many answers the current client may have in flight, and one
    person's share of them: the client's own settings (platform staff set
    them on the client) or the platform defaults."""
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and hasattr(tenant, "answers_in_flight_limit"):
        client, person = tenant.answers_in_flight_limit, tenant.answers_in_flight_per_person
    else:  # a bare schema context (no Client loaded)
        from tenants.models import Client

        client, person = (Client.objects.filter(schema_name=schema or current_schema())
                          .values_list("answers_in_flight_limit", "answers_in_flight_per_person")
                          .first() or (None, None))
    return slots.Limits.of(client or settings.CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT,
                           person or settings.CHAT_ANSWERS_IN_FLIGHT_PER_PERSON or None)


def queued_notice(place: int) -> str:
    """What the employee reads while their answer waits in the client's line."""
    if place <= 1:
        return gettext("Your company's assistant is busy with other questions; yours is "
                       "next in line.")
    return gettext("Your company's assistant is busy with other questions; yours is "
                   "number %(place)d in line.") % {"place": place}


def _start_admitted(answer_ids: list[int], *, own: int | None = None,
                    on_error=None) -> None:
    """Send the answers just given a slot to the workers (`on_error` for `own`)."""

    def not_sent(exc: Exception) -> None:  # its slot lapses; the sweep fails it later
        logger.warning("Could not queue an admitted answer: %s", exc)

    for answer_id in answer_ids:
        enqueue_on_commit("chat.tasks.generate_answer", message_id=answer_id,
                          on_error=on_error if answer_id == own else not_sent)


def _answer_ended(schema: str, answer_id: int) -> None:
    """Free the answer's slot (or its place in line) and start whoever of the
    same client was waiting for it. Best effort: a slot not freed here (Redis
    down) is taken back after CHAT_SLOT_STALE_SECONDS."""
    try:
        admitted = slots.leave(schema, answer_id, limits=answers_in_flight_limits(schema))
    except slots.Unavailable as exc:
        logger.warning("Answer %s in %s: could not free its slot: %s", answer_id, schema, exc)
        return
    _start_admitted(admitted)


def _enqueue_on_commit(answer: Message) -> None:
    """Queue the answer once it is stored: at once if its client has a free
    slot (CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT) and its writer has not used up
    their share of them (CHAT_ANSWERS_IN_FLIGHT_PER_PERSON), else in the
    client's own line (the answer shows as queued; chat/slots.py serves it
    round-robin between people) until one of its answers ends. The queue
    lives in Redis too: if it cannot take the task, the answer ends failed
    (with Retry) and the caller gets the 503 message; the question stays in
    the conversation."""
    answer_id = answer.pk
    person = answer.conversation.user_id
    schema = current_schema()

    def refused(exc: Exception) -> None:
        logger.warning("Could not queue answer %s: %s", answer_id, exc)
        Message.objects.filter(pk=answer_id, status=Message.Status.PENDING).update(
            status=Message.Status.FAILED, error=unavailable_message(),
            error_detail="The task queue (Redis) could not be reached.",
            updated=timezone.now())
        raise _unavailable() from exc

    def admit() -> None:
        try:
            admission = slots.admit(schema, answer_id, person=person,
                                    limits=answers_in_flight_limits(schema))
            if admission.place:
                answer.queued_place = admission.place
                streams.append(schema, answer_id, "status", {
                    "status": "queued", "place": admission.place,
                    "notice": queued_notice(admission.place)})
        except slots.Unavailable as exc:
            refused(exc)
        _start_admitted(admission.admitted, own=answer_id, on_error=refused)

    transaction.on_commit(admit)


# --- Writing an answer (runs in an llm worker thread) ------------------------------

# Hundreds of streams share one worker process; only a few hold a database
# connection at any moment, and none while waiting for the model.
_db_slots = threading.BoundedSemaphore(20)


@contextlib.contextmanager
def db_slot():
    with _db_slots:
        close_old_connections()
        try:
            yield
        finally:
            connection.close()


@contextlib.contextmanager
def db_released():
    """Inside db_slot: give the connection and the slot back while an outside
    API answers (the question's embedding call), then take a slot again."""
    connection.close()
    _db_slots.release()
    try:
        yield
    finally:
        _db_slots.acquire()
        close_old_connections()


class AnswerBusy(Exception):
    """Another worker holds this answer's lease: try again later."""


OFFLINE_TEXT = _(
    "**Offline mode — no model is connected.** This is not an AI answer: no API key is "
    "configured for this workspace, so your message was stored but not sent anywhere. "
    "A tenant admin can add a key under *Bot settings → Connection*, or the platform "
    "operator can set `OPENAI_API_KEY`."
)


@dataclass
class _Job:
    answer: Message
    endpoint: llm.ModelEndpoint | None
    config: BotConfig
    prompt: list[dict[str, str]]
    context: llm.CallContext | None = None
    writer: streams.DeltaWriter | None = None  # every entry it writes, fenced
    attempt: int = 0  # the answer's `attempts` as our claim left it (the database's fence)


def generate_answer(*, message_id: int) -> None:
    """Write one answer. Safe to run twice: a finished answer is left alone, a
    live one (another worker holds its lease) is retried later, and one whose
    worker died is redone once, then failed."""
    schema = current_schema()
    fence = leases.take_lease(schema, message_id, uuid.uuid4().hex)
    if fence is None:
        raise AnswerBusy(message_id)
    leases.keeper.hold(schema, message_id, fence)
    writer = streams.DeltaWriter(schema, message_id, fence=fence)
    job = None
    # Messages the worker stores (errors, the offline note) are in the asker's
    # language, which _claim switches to; leaving this block switches back, as
    # this worker thread answers other people next.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            job = _claim(schema=schema, message_id=message_id, writer=writer)
            if job is None:  # ended already (or deleted): its slot goes to the next
                _answer_ended(schema, message_id)
            else:
                _write(schema=schema, job=job)
        except streams.LeaseLost:
            logger.warning("Answer %s in %s: another worker took it over (this one's lease "
                           "lapsed); this one wrote nothing more", message_id, schema)
        except Exception:
            logger.exception("Answer %s in %s crashed", message_id, schema)
            if job is not None and writer.state != "lost":
                with db_slot():
                    job.answer.refresh_from_db()
                    if (not job.answer.is_finished
                            and streams.get_final(schema, message_id) is None):
                        _finish_failed(job.answer, schema, user_message=gettext(
                            "Something went wrong while answering. Please try again."),
                            admin_message=gettext(
                                "Unexpected error in the worker; see its logs."),
                            writer=writer, attempt=job.attempt)
            raise
        finally:
            writer.drop()
            leases.keeper.release(schema, message_id)


def _asker_language(answer: Message) -> str:
    from tenants.members.selectors import language_for

    return language_for(user=answer.conversation.user,
                        tenant=getattr(connection, "tenant", None))


def _claim(*, schema: str, message_id: int, writer: streams.DeltaWriter) -> _Job | None:
    """Mark the answer as being written by us (its `attempts` goes up by one,
    only if nobody else changed it since we read it: the database's side of
    the fence); None if there is nothing to do."""
    with db_slot():
        answer = (Message.objects.select_related("conversation__user", "reply_to")
                  .filter(pk=message_id, role=Message.Role.ASSISTANT).first())
        if answer is None or answer.is_finished or answer.superseded:
            return None
        if _save_kept_final(schema, answer):  # finished, but its save had failed
            return None
        translation.activate(_asker_language(answer))
        if answer.status == Message.Status.STREAMING:
            # The worker that was writing it died: start over once, visibly.
            if answer.attempts >= 2:
                _finish_failed(answer, schema, user_message=gettext(
                    "The assistant stopped while answering. Please try again."),
                    admin_message=gettext("The worker died twice while writing this answer."),
                    writer=writer, attempt=answer.attempts)
                return None
            writer.event("reset", {})
        config = selectors.get_bot_config()
        endpoint = model_endpoint(config)
        context = llm.load_context(
            user=answer.conversation.user, conversation_id=answer.conversation_id,
            user_message_id=answer.reply_to_id, db=db_slot)
        prompt = build_prompt(answer=answer, config=config, endpoint=endpoint,
                              context=llm.for_embedding(context), outside_db=db_released)

        def on_redacted(items: list[dict]) -> None:
            writer.event("redacted", {"items": items})

        context.on_redacted = on_redacted
        claimed = Message.objects.filter(
            pk=answer.pk, attempts=answer.attempts, status=answer.status,
        ).update(status=Message.Status.STREAMING, attempts=answer.attempts + 1, content="",
                 model=config.model, offline=endpoint is None, updated=timezone.now())
        if not claimed:  # another worker claimed it since we read it
            raise streams.LeaseLost(message_id)
        answer.status = Message.Status.STREAMING
        answer.attempts += 1
        answer.content = ""
        answer.model = config.model
        answer.offline = endpoint is None
    writer.event("status", {"status": "streaming", "offline": endpoint is None})
    return _Job(answer=answer, endpoint=endpoint, config=config, prompt=prompt,
                context=context, writer=writer, attempt=answer.attempts)


def _write(*, schema: str, job: _Job) -> None:
    """Stream from the model into Redis, then store the result. No database
    connection is held while the model writes; the outcome is kept in Redis
    until the database has it, so a finished answer is never lost."""
    answer = job.answer
    started = time.monotonic()
    deadline = started + settings.CHAT_ANSWER_DEADLINE_SECONDS
    first_token: list[float] = []
    shown: list[str] = []  # what the employee has seen, kept if the answer breaks
    lost: list[bool] = []  # another worker took the answer over: stop without a word
    # The flusher's round trips also bring back the Stop flag and the answer's
    # fence (writer.state). While Redis is away the writer keeps the text and
    # sends it when Redis is back (streams.PATIENCE_SECONDS).
    writer = job.writer
    assert writer is not None and writer.fence is not None
    fence = writer.fence

    def carry_on() -> bool:
        try:
            state = leases.writer_check(schema, answer.pk, fence)
        except streams.StreamUnavailable:
            return True  # Redis is away for a moment: the writer keeps what comes
        if state == "lost":
            lost.append(True)
        return state is None

    def on_delta(text: str) -> bool:
        if not first_token:
            first_token.append(time.monotonic())
        shown.append(text)
        writer.write(text)
        if writer.state == "lost":
            lost.append(True)
        return writer.state is None

    def on_wait(error: llm.GatewayError, seconds: float) -> bool:
        """Tell the employee why nothing comes yet, then wait (False: Stop pressed)."""
        writer.event("status", {
            "status": "retrying", "reason": error.kind, "retry_in": round(seconds),
            "notice": _wait_notice(error.kind, seconds)})
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(0.25, left))
            if not carry_on():
                return False
        return True

    audits: list = []  # audit records the database could not take yet
    try:
        try:
            completion = _stream(job, on_delta, on_wait=on_wait, deadline=deadline,
                                 on_audit_failure=audits.append)
        finally:
            if lost or writer.state == "lost":
                writer.drop()
            else:
                writer.close()  # the last text goes before any end event
    except llm.GatewayError as exc:
        if lost or writer.state == "lost":
            return
        logger.warning("Answer %s in %s failed (%s): %s", answer.pk, schema, exc.kind,
                       exc.admin_message)
        content = "".join(shown)
        _finish(schema, answer, {
            "status": Message.Status.FAILED, "content": content, "error": str(exc.user_message),
            "error_detail": str(exc.admin_message)},
            event={"error": str(exc.user_message), "html": markdown_to_html(content)},
            audits=audits, writer=writer, attempt=job.attempt)
        return
    if lost or writer.state == "lost":
        logger.warning("Answer %s in %s: another worker took it over (this one's lease "
                       "lapsed); stopped writing", answer.pk, schema)
        return
    elapsed = time.monotonic() - started
    fields = {
        "content": completion.text,
        "status": Message.Status.CANCELLED if completion.stopped else Message.Status.DONE,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "latency_ms": round(elapsed * 1000),
        "first_token_ms": round((first_token[0] - started) * 1000) if first_token else None,
        "citations": answer.citations,
    }
    _finish(schema, answer, fields, event={
        "html": markdown_to_html(completion.text), "latency_ms": fields["latency_ms"],
        "model": answer.model,
        "usage": {"prompt_tokens": completion.prompt_tokens,
                  "completion_tokens": completion.completion_tokens},
        "redacted": job.context.user_items if job.context else [],
        "citations": answer.citations,
    }, audits=audits, writer=writer, attempt=job.attempt)


def _wait_notice(kind: str, seconds: float) -> str:
    n = max(1, round(seconds))
    if kind == "rate_limited":
        return gettext("The model is busy; retrying in %(seconds)d s…") % {"seconds": n}
    if kind == "timeout":
        return gettext("The model is not answering; trying again in %(seconds)d s…") % {
            "seconds": n}
    return gettext("The model service had a problem; retrying in %(seconds)d s…") % {
        "seconds": n}


_FINAL_FIELDS = ("content", "status", "prompt_tokens", "completion_tokens", "latency_ms",
                 "first_token_ms", "citations", "error", "error_detail")


def _finish(schema: str, answer: Message, fields: dict, *, event: dict,
            audits: list | None = None, writer: streams.DeltaWriter,
            attempt: int) -> None:
    """End an answer: its outcome goes to Redis first (kept until saved), then
    to the database and the browser. If the save fails (database down), the
    browser is shown the outcome anyway and the save is retried; if it still
    fails, the abandoned-answer sweep saves the kept copy later. Every write
    is fenced: once another worker took the answer over, nothing of ours is
    saved or shown (streams.LeaseLost). Redis away for a moment: waited for
    (streams.PATIENCE_SECONDS)."""
    fields = {**fields, "attempt": attempt}
    _while_redis_away(lambda: streams.keep_final(schema, answer.pk, fields))
    give_up = time.monotonic() + settings.CHAT_FINAL_SAVE_SECONDS
    pause = 0.5
    shown = False
    while True:
        try:
            with db_slot():
                saved = _save_final(answer.pk, fields)
            if not saved:  # ended otherwise meanwhile, or taken over: not ours to show
                logger.warning("Answer %s in %s: not saved (it ended otherwise or another "
                               "worker took it over); its outcome is not shown", answer.pk,
                               schema)
                with contextlib.suppress(streams.StreamUnavailable):
                    streams.drop_final(schema, answer.pk)
                return
            while audits:  # the model call's audit record, deferred while the DB was down
                audits[0]()
                audits.pop(0)
        except Exception as exc:  # the database is unreachable (or was cut off mid-save)
            if not shown:  # the employee sees the whole answer now, not "failed"
                writer.event(fields["status"], event)
                shown = True
            if time.monotonic() + pause > give_up:
                logger.error("Answer %s in %s is finished but could not be saved (%s); it "
                             "is kept in Redis for the abandoned-answer sweep (%d audit "
                             "record(s) of its model call not written)", answer.pk,
                             schema, exc, len(audits or []))
                return
            logger.warning("Saving answer %s in %s failed (%s); retrying in %.1f s",
                           answer.pk, schema, exc, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
            continue
        if not shown:
            writer.event(fields["status"], event)
        _while_redis_away(lambda: streams.drop_final(schema, answer.pk))
        for name in _FINAL_FIELDS:
            if name in fields:
                setattr(answer, name, fields[name])
        _answer_ended(schema, answer.pk)
        return


def _while_redis_away(call):
    """`call()` (a Redis write of a worker), tried again while Redis is away
    for up to streams.PATIENCE_SECONDS (it is restarting)."""
    give_up = time.monotonic() + streams.PATIENCE_SECONDS
    pause = 0.1
    while True:
        try:
            return call()
        except streams.StreamUnavailable:
            if time.monotonic() + pause > give_up:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _save_final(answer_id: int, fields: dict) -> int:
    """Store a finished answer's outcome, unless it already ended otherwise or
    (`fields["attempt"]`, the writer's fence) another worker claimed it since."""
    values = {name: fields[name] for name in _FINAL_FIELDS if name in fields}
    fenced = {"attempts": fields["attempt"]} if fields.get("attempt") is not None else {}
    return Message.objects.filter(
        pk=answer_id, status__in=[Message.Status.PENDING, Message.Status.STREAMING],
        **fenced,
    ).update(**values, updated=timezone.now())


def _save_kept_final(schema: str, answer: Message) -> bool:
    """If the answer's outcome waits in Redis (its save had failed), save it now."""
    fields = streams.get_final(schema, answer.pk)
    if fields is None:
        return False
    saved = _save_final(answer.pk, fields)  # not if a later attempt claimed it since
    streams.drop_final(schema, answer.pk)
    answer.refresh_from_db()
    if saved:
        logger.info("Answer %s in %s: saved its kept outcome (%s)", answer.pk, schema,
                    fields.get("status"))
    return bool(saved) or answer.is_finished


def _stream(job: _Job, on_delta, *, on_wait=None, deadline=None,
            on_audit_failure=None) -> llm.Completion:
    if job.endpoint is None:
        on_delta(str(OFFLINE_TEXT))
        return llm.Completion(str(OFFLINE_TEXT), None, None, "stop")
    return llm.stream_chat(
        endpoint=job.endpoint, model=job.config.model, messages=job.prompt,
        temperature=job.config.temperature, max_tokens=job.config.max_output_tokens,
        on_delta=on_delta, context=job.context, on_wait=on_wait, deadline=deadline,
        on_audit_failure=on_audit_failure,
    )


def _finish_failed(answer: Message, schema: str, *, user_message: str, admin_message: str,
                   writer: streams.DeltaWriter | None = None,
                   attempt: int | None = None) -> None:
    """End an unfinished answer as failed (with Retry). A worker passes its
    `writer` and `attempt` (its fence): nothing is written if another worker
    claimed the answer since."""
    fenced = {"attempts": attempt} if attempt is not None else {}
    failed = Message.objects.filter(
        pk=answer.pk, status__in=[Message.Status.PENDING, Message.Status.STREAMING], **fenced,
    ).update(status=Message.Status.FAILED, content=answer.content, error=user_message,
             error_detail=admin_message, updated=timezone.now())
    if not failed:
        return
    answer.status = Message.Status.FAILED
    answer.error = user_message
    answer.error_detail = admin_message
    event = {"error": user_message, "html": markdown_to_html(answer.content)}
    if writer is not None:
        writer.event("failed", event)
    else:
        streams.append(schema, answer.pk, "failed", event)
    _answer_ended(schema, answer.pk)


def build_prompt(*, answer: Message, config: BotConfig,
                 endpoint: llm.ModelEndpoint | None,
                 context: llm.CallContext | None = None,
                 outside_db=contextlib.nullcontext) -> list[dict[str, str]]:
    # Knowledge passages are documents anyone with upload rights wrote: they
    # travel as user-role data, never with system authority, delimited and
    # marked as data not to obey (OWASP LLM01). The rule saying so is ours and
    # goes in the system message. The answer cites them (saved in _write).
    from knowledge import retrieval

    question = answer.reply_to
    if question is None:
        raise ValueError(f"answer {answer.pk} replies to no question")
    passages = retrieval.retrieve(query=question.content,
                                  conversation_id=answer.conversation_id,
                                  endpoint=endpoint, context=context, outside_db=outside_db)
    answer.citations = [passage.citation(n) for n, passage in enumerate(passages, start=1)]
    system = [config.system_instructions.strip()] if config.system_instructions.strip() else []
    if passages:
        system.append(retrieval.REFERENCE_RULES)
    elif note := retrieval.not_covered_note(conversation_id=answer.conversation_id):
        # Nothing relevant: say so rather than cite filler (issue 16).
        system.append(note)
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": "\n\n".join(system)})
    for earlier in selectors.history_for(answer=answer, limit=config.history_messages):
        messages.append({"role": earlier.role, "content": earlier.content})
    if passages:
        messages.append({"role": "user", "content": retrieval.reference_block(passages)})
    messages.append({"role": "user", "content": question.content})
    return messages


# Pending this long: its task was lost (longer than a redelivery takes).
PENDING_TIMEOUT_SECONDS = getattr(settings, "CHAT_PENDING_TIMEOUT_SECONDS", 900)


def fail_if_abandoned(*, answer: Message) -> bool:
    """An answer left 'streaming' by a dead worker (its lease expired) is
    saved from its kept outcome if it had finished, else redone once (the
    broker's own redelivery waits CELERY_VISIBILITY_TIMEOUT), else failed;
    one left 'pending' by a lost task ends failed. Failed answers get a Retry
    button, so nothing waits forever. True if the answer is now finished."""
    schema = current_schema()
    if answer.is_finished or leases.lease_alive(schema, answer.pk):
        return False
    with translation.override(_asker_language(answer)):
        if answer.status == Message.Status.PENDING:
            quiet_for = (timezone.now() - answer.updated).total_seconds()
            if quiet_for < PENDING_TIMEOUT_SECONDS:
                return False
            _finish_failed(answer, schema, user_message=gettext(
                "The assistant did not get to your question in time. Please try again."),
                admin_message=gettext("The task for this answer was never run (lost queue?)."))
            return True
        if _save_kept_final(schema, answer):
            _answer_ended(schema, answer.pk)
            return True
        if answer.attempts < 2:
            if streams.redo_requested(schema, answer.pk, answer.attempts):
                return False  # queued; a worker starts it over
            if streams.claim_redo(schema, answer.pk, answer.attempts,
                                  seconds=PENDING_TIMEOUT_SECONDS):
                logger.warning("Answer %s in %s: its worker died (lease expired); redoing it",
                               answer.pk, schema)
                streams.append(schema, answer.pk, "status", {
                    "status": "retrying", "reason": "worker_lost",
                    "notice": gettext("The assistant stopped while answering; starting the "
                                      "answer again…")})
                current_app.send_task("chat.tasks.generate_answer",
                                      kwargs={"message_id": answer.pk})
            return False
        _finish_failed(answer, schema, user_message=gettext(
            "The assistant stopped while answering. Please try again."),
            admin_message=gettext("No worker was writing this answer."))
    return True


def fail_abandoned_answers() -> int:
    """Run per client by celery beat: answers whose worker died are saved,
    redone or failed (see fail_if_abandoned)."""
    now = timezone.now()
    stuck = Message.objects.filter(
        Q(status=Message.Status.STREAMING,
          updated__lt=now - timedelta(seconds=leases.LEASE_SECONDS))
        | Q(status=Message.Status.PENDING,
            updated__lt=now - timedelta(seconds=PENDING_TIMEOUT_SECONDS))
    )
    return sum(fail_if_abandoned(answer=answer) for answer in stuck)
