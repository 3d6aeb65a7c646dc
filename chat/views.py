"""Chat pages and endpoints: thin, they call selectors and services."""

from __future__ import annotations

import copy
import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

import llm
from chat import selectors, services, sse, streams
from chat.forms import BotConfigForm, FeedbackFilterForm, MessageForm, PromptForm
from chat.models import Conversation, Message
from chat.rendering import markdown_to_html
from core import ids
from knowledge import selectors as knowledge_selectors
from knowledge import views as knowledge_views
from tenants.members.models import User
from tenants.members.permissions import tenant_admin_required

logger = logging.getLogger(__name__)

def _sidebar(request, *, query: str = "") -> dict:
    page = selectors.sidebar_page(user=request.user, query=query,
                                  cursor=request.GET.get("before", ""))
    return {"sidebar": page, "query": query}


def _chat_context(request, *, conversation) -> dict:
    messages_list = selectors.thread(conversation=conversation) if conversation else []
    for message in messages_list:
        if message.role == Message.Role.ASSISTANT and not message.is_finished:
            # Still being written: its stream through the fast path, too.
            message.stream_url = _stream_url(message, request)
    return {
        **_sidebar(request, query=request.GET.get("q", "").strip()),
        "conversation": conversation,
        "messages_list": messages_list,
        "prompts": list(selectors.prompts().values("id", "title", "text")),
        # "/answers/": each answer's URLs are this, its id and the action
        # (one reverse() for the page, not five per answer).
        "answers_url": reverse("chat:answer", args=[0]).removesuffix("0/"),
        "bot": selectors.get_bot_config(), "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
    }


def _answer_json(answer: Message, request=None) -> dict:
    return {
        "id": answer.pk,
        "status": answer.status,
        "html": markdown_to_html(answer.content),
        "error": answer.error,
        "offline": answer.offline,
        # Its place in the client's line when all the client's slots are taken
        # (the stream says so too, and when it starts); 0: on its way.
        "queued": answer.queued_place,
        "stream_url": _stream_url(answer, request),
        "created": answer.created.isoformat(),
    }


def _stream_url(answer: Message, request) -> str:
    """The answer stream's URL; for an answer still being written, with a
    short-lived stream token, so the fast path in front of Django
    (chat.stream_app) serves it without the session or the database. The
    URL without its token still works (this module's view)."""
    url = reverse("chat:answer-stream", args=[answer.pk])
    session_key = request.session.session_key if request is not None else None
    if answer.is_finished or not session_key:
        return url
    token = sse.issue_token(schema=request.tenant.schema_name, host=request.get_host(),
                            answer_id=answer.pk, user_id=request.user.pk,
                            session_key=session_key,
                            language=getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE))
    return f"{url}?t={token}"


def _version_json(message: Message) -> dict:
    version = selectors.version_of(message=message)
    return {"version": version.number, "versions": version.count,
            "previous_id": version.previous_id}


@login_required
def chat_home(request):
    return render(request, "chat/conversation.html", _chat_context(request, conversation=None))


@login_required
def conversation_detail(request, conversation_id: int):
    conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
    return render(request, "chat/conversation.html",
                  _chat_context(request, conversation=conversation))


@require_POST
@login_required
def send(request, conversation_id: int | None = None):
    """Store the question; answer with where to read the answer stream."""
    form = MessageForm(request.POST)
    form.is_valid()
    conversation = (
        selectors.get_conversation(user=request.user, conversation_id=conversation_id)
        if conversation_id else None
    )
    edit_of = None
    if conversation is not None and request.POST.get("edit_of"):
        edit_of_id = ids.parse_id(request.POST["edit_of"], minimum=1)
        if edit_of_id is None:
            raise Http404
        edit_of = selectors.get_message(user=request.user, message_id=edit_of_id)
    try:
        sent = services.send_message(user=request.user, conversation=conversation,
                                     text=form.cleaned_data.get("text", ""),
                                     request_id=request.POST.get("request_id", ""),
                                     edit_of=edit_of)
    except services.ChatError as exc:
        if _wants_json(request):
            return JsonResponse({"error": exc.message}, status=exc.status)
        flash.error(request, exc.message)
        if conversation is not None:
            return redirect("chat:conversation", conversation.pk)
        return redirect("chat:home")
    answer = sent.answer
    conversation = answer.conversation
    if _wants_json(request):
        # A repeat of the same request id: the first result, nothing new stored.
        return JsonResponse({
            "conversation_id": conversation.pk,
            "conversation_url": reverse("chat:conversation", args=[conversation.pk]),
            "title": conversation.title,
            "question": {"id": answer.reply_to_id, "text": answer.reply_to.content,
                         "created": answer.reply_to.created.isoformat(),
                         **_version_json(answer.reply_to)},
            "answer": _answer_json(answer, request),
            "repeated": sent.repeated,
        }, status=200 if sent.repeated else 201)
    return redirect("chat:conversation", conversation.pk)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@login_required
def rename(request, conversation_id: int):
    conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
    try:
        services.rename_conversation(conversation=conversation, title=request.POST.get("title", ""))
    except services.ChatError as exc:
        flash.error(request, exc.message)
    return redirect("chat:conversation", conversation.pk)


@require_POST
@login_required
def delete(request, conversation_id: int):
    conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
    services.delete_conversation(conversation=conversation)
    flash.success(request, gettext("The conversation was deleted."))
    return redirect("chat:home")


@require_POST
@login_required
def message_show(request, message_id: int):
    """Show another version of a question or an answer (‹ 1/2 ›)."""
    message = selectors.get_message(user=request.user, message_id=message_id)
    try:
        services.show_version(message=message)
    except services.ChatError as exc:
        if _wants_json(request):
            return JsonResponse({"error": exc.message}, status=exc.status)
        flash.error(request, exc.message)
    if _wants_json(request):
        return JsonResponse({"ok": True})
    url = reverse("chat:conversation", args=[message.conversation_id])
    return redirect(f"{url}#m{message.pk}")


@require_GET
@login_required
def answer_detail(request, message_id: int):
    answer = selectors.get_answer(user=request.user, message_id=message_id)
    return JsonResponse(_answer_json(answer, request))


@require_POST
@login_required
def answer_stop(request, message_id: int):
    answer = selectors.get_answer(user=request.user, message_id=message_id)
    try:
        services.stop(answer=answer)
    except services.ChatError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"ok": True})


@require_POST
@login_required
def answer_regenerate(request, message_id: int):
    answer = selectors.get_answer(user=request.user, message_id=message_id)
    try:
        fresh = services.regenerate(answer=answer)
    except services.ChatError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"replaced": answer.pk,
                         "answer": {**_answer_json(fresh, request), **_version_json(fresh)}},
                        status=201)


@require_POST
@login_required
def answer_feedback(request, message_id: int):
    answer = selectors.get_answer(user=request.user, message_id=message_id)
    raw = request.POST.get("value", "")
    try:
        value = {"1": 1, "-1": -1, "": None}[raw]
        services.set_feedback(answer=answer, value=value,
                              comment=request.POST.get("comment", ""))
    except (KeyError, services.ChatError):
        return JsonResponse({"error": gettext("Feedback is thumbs up (1) or down (-1).")},
                            status=400)
    return JsonResponse({"feedback": answer.feedback})


async def answer_stream(request, message_id: int):
    """Server-sent events for one answer, resumable with Last-Event-ID."""
    try:
        # One trip to a thread for the session, the user and the answer.
        answer = await sync_to_async(_own_answer)(request, message_id)
    except PermissionError:
        return JsonResponse({"error": gettext("Sign in first.")}, status=401)
    except Http404:
        return JsonResponse({"error": gettext("Not found.")}, status=404)
    # Not `connection.schema_name`: this coroutine runs outside the thread the
    # tenant middleware set the connection up in.
    schema = request.tenant.schema_name
    after = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0-0"
    if not streams.is_event_id(after):
        return JsonResponse({"error": gettext("The event id to resume after is not valid; "
                                              "reload the page.")}, status=400)
    # The first read does not wait: if Redis is down the answer is a 503 with
    # the usual sentence, not an event stream that fails at once.
    # A well-formed id past the end (or of an expired stream) gets the stored
    # final state after STALE_CHECK_MS, never "failed".
    reader = streams.read(schema, answer.pk, after=after, wait_first=False,
                          block_ms=sse.STALE_CHECK_MS)
    try:
        first = await anext(reader)
    except streams.StreamUnavailable as exc:
        logger.warning("Answer stream %s unavailable: %s", answer.pk, exc)
        return JsonResponse({"error": services.unavailable_message()}, status=503,
                            headers={"Retry-After": "5"})
    return StreamingHttpResponse(
        _events(schema, answer, reader, first), content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _own_answer(request, message_id: int) -> Message:
    """Authorise the stream, then give the database connection back: an open
    stream waits on Redis only, so a thousand of them hold no connection and
    other pages never queue behind them for one. (This runs in the request's
    own thread, where the middleware used the connection too.)"""
    try:
        if not request.user.is_authenticated:
            raise PermissionError
        return selectors.get_answer(user=request.user, message_id=message_id)
    finally:
        connections.close_all()


async def _events(schema: str, answer: Message, reader, first: list):
    yield "retry: 1000\n\n"
    if first:
        yield sse.events(first)
        if first[-1].event in streams.END_EVENTS:
            return
    try:
        async for batch in reader:
            if not batch:
                # Quiet for a while: is anyone still writing this answer?
                state = await sync_to_async(sse.stale_state)(schema, answer.pk)
                if state is not None:
                    yield sse.event(state["status"], state)
                    return
                yield ": keep-alive\n\n"
                continue
            # One write per read: under load a read returns many events.
            yield sse.events(batch)
    except streams.StreamUnavailable as exc:
        # Redis went away mid-answer: not the answer's end (its worker keeps
        # the text); the browser reconnects with Last-Event-ID and resumes.
        logger.warning("Answer stream %s unavailable: %s", answer.pk, exc)
        yield sse.reconnect_event()


# --- Tenant admin pages ------------------------------------------------------------

@sensitive_post_parameters("api_key")
@tenant_admin_required
def bot_settings(request):
    config = selectors.get_bot_config()
    form = BotConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in BotConfigForm.Meta.fields}
        fields["suggested_prompts"] = form.cleaned_data["suggested_prompts_text"]
        try:
            services.update_bot_config(
                config=config, api_key=form.cleaned_data["api_key"] or None,
                clear_api_key=form.cleaned_data["clear_api_key"], **fields,
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # per field: base URL refused, or no own key
            config.refresh_from_db()
        else:
            flash.success(request, gettext("Settings saved. They apply to the next message."))
            return redirect("chat:bot-settings")
    return render(request, "chat/bot_settings.html", {
        "form": form, "config": config,
        "platform_key": bool(settings.OPENAI_API_KEY),
        "endpoint": services.model_endpoint(config),
    })


@sensitive_post_parameters("api_key")
@require_POST
@tenant_admin_required
def bot_test_connection(request):
    """Test connection: with what the form holds now (not saved), or with the
    saved settings when the request carries no form."""
    config = selectors.get_bot_config()
    typed = None
    if "model" in request.POST:
        form = BotConfigForm(request.POST, instance=copy.copy(config))
        form.is_valid()
        errors = [str(error) for name in BotConfigForm.CONNECTION_FIELDS
                  for error in form.errors.get(name, [])]
        if errors:
            return JsonResponse({"ok": False, "message": " ".join(errors)})
        typed = {name: form.cleaned_data.get(name) for name in BotConfigForm.CONNECTION_FIELDS}
    try:
        result = services.test_bot_connection(config=config, typed=typed)
    except llm.GatewayError as exc:
        return JsonResponse({"ok": False, "message": exc.admin_message}, status=200)
    return JsonResponse({"ok": True, "message": result})


@tenant_admin_required
def feedback_review(request):
    form = FeedbackFilterForm(request.GET or None, users=User.objects.order_by("email"))
    filters = form.cleaned_data if form.is_valid() else {}
    answers = selectors.feedback_for_review(
        rating=filters.get("rating"), user_id=filters.get("user"),
        since=filters.get("since"), until=filters.get("until"))
    page = Paginator(answers, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "chat/feedback.html", {
        "page": page, "form": form, "query": query.urlencode(),
        "filtered": any(value not in (None, "") for value in filters.values()),
    })


@tenant_admin_required
def feedback_detail(request, message_id: int):
    answer, exchange = selectors.rated_exchange(message_id=message_id)
    return render(request, "chat/feedback_detail.html", {
        "answer": answer, "exchange": exchange, "back": request.GET.urlencode()})


@tenant_admin_required
def prompt_library(request):
    form = PromptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.save_prompt(**form.cleaned_data)
        flash.success(request, gettext("Prompt added."))
        return redirect("chat:prompts")
    return render(request, "chat/prompts.html", {"form": form, "prompts": selectors.prompts()})


@tenant_admin_required
def prompt_edit(request, prompt_id: int):
    prompt = selectors.get_prompt(prompt_id=prompt_id)
    form = PromptForm(request.POST or None, instance=prompt)
    if request.method == "POST" and form.is_valid():
        services.save_prompt(prompt=prompt, **form.cleaned_data)
        flash.success(request, gettext("Prompt saved."))
        return redirect("chat:prompts")
    return render(request, "chat/prompt_edit.html", {"form": form, "prompt": prompt})


@require_POST
@tenant_admin_required
def prompt_delete(request, prompt_id: int):
    services.delete_prompt(prompt=selectors.get_prompt(prompt_id=prompt_id))
    flash.success(request, gettext("Prompt deleted."))
    return redirect("chat:prompts")


# --- Files attached to one conversation (stored and indexed by knowledge) -----------

@require_POST
@login_required
def attach(request, conversation_id: int | None = None):
    """Attach a file to one conversation (a new one when none is given)."""
    conversation = (
        selectors.get_conversation(user=request.user, conversation_id=conversation_id)
        if conversation_id else None
    )
    with transaction.atomic():
        if conversation is None:
            conversation = Conversation.objects.create(user=request.user)
        response = knowledge_views.uploaded(request, conversation=conversation)
        if response.status_code != 201:
            transaction.set_rollback(True)  # a refused file leaves no empty conversation
            return response
    body = json.loads(response.content)
    body["conversation_id"] = conversation.pk
    body["conversation_url"] = reverse("chat:conversation", args=[conversation.pk])
    return JsonResponse(body, status=201)


@require_GET
@login_required
def attachments(request, conversation_id: int):
    conversation = selectors.get_conversation(user=request.user,
                                              conversation_id=conversation_id)
    return JsonResponse({"files": [knowledge_views.file_json(file) for file in
                                   knowledge_selectors.attachments_for(conversation=conversation)]})
