"""What the doors tests share: every route of a client's site with the rule
it must obey, and a victim client whose objects the rules are tested against.

ROUTES is the one place a route's rule is declared. The tests walk the tenant
URLconf and fail for a route missing here (or listed here but gone), so a new
route cannot ship without someone deciding who may open it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

TENANT_URLCONF = "config.urls_tenant"
# Every victim object carries it in some text, so a response that leaks data shows it.
SECRET = "victim-secret-7f3a"

OPEN = "open"  # on tenants.access.ANONYMOUS_ROUTES: anyone may open it
MEMBER = "member"  # any signed-in member; objects scoped to their owner
ADMIN = "admin"  # tenant admins only (403 for other members)
# On tenants.access.SELF_AUTHENTICATING_ROUTES: checks its own credentials (an
# API token); without them 401/403 (404 for an object), whatever the session.
TOKEN = "token"


@dataclass(frozen=True)
class Rule:
    who: str  # OPEN, MEMBER, ADMIN or TOKEN
    method: str = "GET"  # the method the route is for (others are refused)
    # URL argument -> the victim's object it names (see World.ids).
    objects: dict[str, str] = field(default_factory=dict)


ROUTES: dict[str, Rule] = {
    # chat/urls.py
    "chat:home": Rule(MEMBER),
    "chat:conversation": Rule(MEMBER, objects={"conversation_id": "conversation"}),
    "chat:send-new": Rule(MEMBER, "POST"),
    "chat:send": Rule(MEMBER, "POST", {"conversation_id": "conversation"}),
    "chat:rename": Rule(MEMBER, "POST", {"conversation_id": "conversation"}),
    "chat:delete": Rule(MEMBER, "POST", {"conversation_id": "conversation"}),
    "chat:message-show": Rule(MEMBER, "POST", {"message_id": "question"}),
    "chat:answer": Rule(MEMBER, objects={"message_id": "answer"}),
    "chat:answer-stream": Rule(MEMBER, objects={"message_id": "answer"}),
    "chat:answer-stop": Rule(MEMBER, "POST", {"message_id": "pending_answer"}),
    "chat:answer-regenerate": Rule(MEMBER, "POST", {"message_id": "answer"}),
    "chat:answer-feedback": Rule(MEMBER, "POST", {"message_id": "answer"}),
    "chat:bot-settings": Rule(ADMIN),
    "chat:bot-test": Rule(ADMIN, "POST"),
    "chat:feedback": Rule(ADMIN),
    # A rated answer and the turns before it, for the admin reviewing feedback.
    "chat:feedback-detail": Rule(ADMIN, objects={"message_id": "answer"}),
    "chat:prompts": Rule(ADMIN),
    "chat:prompt-edit": Rule(ADMIN, objects={"prompt_id": "prompt"}),
    "chat:prompt-delete": Rule(ADMIN, "POST", {"prompt_id": "prompt"}),
    # knowledge/urls.py
    "knowledge:library": Rule(ADMIN),
    "knowledge:status": Rule(ADMIN),
    "knowledge:upload": Rule(ADMIN, "POST"),
    "knowledge:settings": Rule(ADMIN, "POST"),
    "knowledge:delete": Rule(ADMIN, "POST", {"file_id": "library_file"}),
    "knowledge:reindex": Rule(ADMIN, "POST", {"file_id": "library_file"}),
    "knowledge:chunks": Rule(ADMIN, objects={"file_id": "library_file"}),
    # Library passages are for every member; an attachment's only for its owner.
    "knowledge:passage": Rule(MEMBER, objects={"chunk_id": "attachment_chunk"}),
    # chat/urls.py: files attached to one conversation
    "chat:attach-new": Rule(MEMBER, "POST"),
    "chat:attach": Rule(MEMBER, "POST", {"conversation_id": "conversation"}),
    "chat:attachments": Rule(MEMBER, objects={"conversation_id": "conversation"}),
    # config/urls_tenant.py
    "healthz": Rule(OPEN),
    # The interface strings of static/js (no client data); the sign-in page loads it.
    "javascript-catalog": Rule(OPEN),
    # tenants/members/urls.py
    "login": Rule(OPEN),
    "logout": Rule(MEMBER, "POST"),
    "password_change": Rule(MEMBER),
    "password_change_done": Rule(MEMBER),
    "password_reset": Rule(OPEN),
    "password_reset_done": Rule(OPEN),
    # A signed link (uid + token), not an object id: it shows a form or "invalid link".
    "password_reset_confirm": Rule(OPEN),
    "password_reset_complete": Rule(OPEN),
    "members": Rule(ADMIN),
    "member-set-active": Rule(ADMIN, "POST", {"pk": "member"}),
    "member-unlock": Rule(ADMIN, "POST", {"pk": "member"}),
    # A person's own language (and, for tenant admins, the workspace default).
    "language": Rule(MEMBER, "POST"),
    # tenants/two_step/urls.py: the second step checks the half-finished sign-in
    # in the session itself (anyone without one is sent back to sign in).
    "two_step:verify": Rule(OPEN),
    "two_step:passkey-sign-in-options": Rule(OPEN, "POST"),
    "two_step:passkey-sign-in": Rule(OPEN, "POST"),
    "two_step:setup": Rule(OPEN),
    "two_step:totp": Rule(OPEN),
    "two_step:passkey-register-options": Rule(OPEN, "POST"),
    "two_step:passkey-register": Rule(OPEN, "POST"),
    "two_step:codes": Rule(MEMBER),
    "two_step:new-recovery-codes": Rule(MEMBER, "POST"),
    "two_step:remove": Rule(MEMBER, "POST", {"factor_id": "second_factor"}),
    "two_step:policy": Rule(ADMIN, "POST"),
    "two_step:member-reset": Rule(ADMIN, "POST", {"pk": "member"}),
    # tenants/sso/urls.py and scim_urls.py
    "sso:login": Rule(OPEN),
    "sso:callback": Rule(OPEN),
    "sso:settings": Rule(ADMIN),
    "sso:scim-token": Rule(ADMIN, "POST"),
    "scim:service-provider-config": Rule(TOKEN),
    "scim:resource-types": Rule(TOKEN),
    "scim:schemas": Rule(TOKEN),
    "scim:users": Rule(TOKEN),
    "scim:user": Rule(TOKEN, objects={"user_id": "member"}),
    # compliance/urls.py
    "compliance:overview": Rule(OPEN),
    "compliance:accept-notice": Rule(MEMBER, "POST"),
    "compliance:data-controls": Rule(ADMIN),
    "compliance:audit": Rule(ADMIN),
    # data_rights/urls.py
    "privacy:workspace-data": Rule(MEMBER),
    "privacy:overview-pdf": Rule(MEMBER),
    "privacy:my-data-export": Rule(MEMBER),
    "privacy:my-conversations-delete": Rule(MEMBER, "POST"),
    "privacy:members-data": Rule(ADMIN),
    "privacy:member-export": Rule(ADMIN, objects={"user_id": "member"}),
    "privacy:member-erase": Rule(ADMIN, "POST", {"user_id": "member"}),
    # api/urls.py: the OpenAI-compatible API takes a member's token, never a session.
    "api:chat-completions": Rule(TOKEN, "POST"),
    "api:models": Rule(TOKEN),
    "api:tokens": Rule(MEMBER),
    # A member revokes only their own tokens (another's id: 404).
    "api:token-revoke": Rule(MEMBER, "POST", {"token_id": "api_token"}),
    "api:docs": Rule(MEMBER),
    "api:openapi": Rule(MEMBER),
    "api:admin-tokens": Rule(ADMIN),
    "api:admin-token-revoke": Rule(ADMIN, "POST", {"token_id": "api_token"}),
}

# Sample values for arguments that are not object ids.
NON_OBJECT_ARGS = {"uidb64": "MQ", "token": "set-password", "kind": "totp"}


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name, as reverse() takes it
    pattern: str  # e.g. "c/<int:conversation_id>/"
    args: tuple[str, ...]


def tenant_routes() -> list[Route]:
    """Every named route of the tenant URLconf (an unnamed one is an error)."""
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"the route {prefix}{entry.pattern} has no name"
                args = tuple(getattr(entry.pattern, "converters", {}).keys())
                routes.append(Route(namespace + entry.name, prefix + str(entry.pattern), args))

    walk(get_resolver(TENANT_URLCONF).url_patterns, "", "")
    return routes


def url_for(route: Route, ids: dict[str, int] | None = None) -> str:
    rule = ROUTES[route.name]
    kwargs = {}
    for arg in route.args:
        if arg in rule.objects:
            assert ids is not None, f"{route.name} needs the victim's {rule.objects[arg]}"
            kwargs[arg] = ids[rule.objects[arg]]
        else:
            kwargs[arg] = NON_OBJECT_ARGS.get(arg, 1)
    return reverse(route.name, kwargs=kwargs, urlconf=TENANT_URLCONF)


# --- The victim's objects ------------------------------------------------------------

def make_victim_objects(*, victim, admin) -> dict[str, int]:
    """In the current schema: a conversation of `victim` with a finished and a
    pending answer, redaction rows, an attachment with a passage; a library
    file with a passage. Returns their ids by the names ROUTES uses."""
    from chat.models import Prompt
    from compliance.models import ConversationRedaction, MessageRedaction
    from tests.support.factories import (
        AnswerFactory,
        KnowledgeChunkFactory,
        KnowledgeFileFactory,
        QuestionFactory,
    )

    prompt = Prompt.objects.create(title=f"Payroll {SECRET}", text=f"Summarise {SECRET}")
    question = QuestionFactory(conversation__user=victim,
                               conversation__title=f"Salaries {SECRET}",
                               content=f"What does Jane earn? {SECRET}")
    conversation = question.conversation
    answer = AnswerFactory(reply_to=question, content=f"Jane earns a lot. {SECRET}")
    pending = AnswerFactory(reply_to=question, status="pending", superseded=True)
    MessageRedaction.objects.create(
        message_id=question.pk, conversation_id=conversation.pk,
        items=[{"type": "PERSON", "placeholder": "<PERSON_1>", "original": "Jane",
                "label": "Names"}])
    ConversationRedaction.objects.create(conversation_id=conversation.pk,
                                         mapping={"<PERSON_1>": "Jane"})

    def stored(name: str, *, owner, conversation=None):
        file = KnowledgeFileFactory(
            display_name=f"{name} {SECRET}.txt", content=f"{name} {SECRET}".encode(),
            uploaded_by=owner, conversation=conversation, chunk_count=1,
            indexed_at=timezone.now() - dt.timedelta(minutes=1))
        KnowledgeChunkFactory(file=file, index=0, page=1, text=f"{name} {SECRET}")
        return file

    attachment = stored("payslip", owner=victim, conversation=conversation)
    library = stored("handbook", owner=admin)
    from api import services as api_services

    api_token, _secret = api_services.create_token(user=victim, name=f"Sheets {SECRET}")
    return {
        "api_token": api_token.pk,
        "conversation": conversation.pk,
        "answer": answer.pk,
        "pending_answer": pending.pk,
        "question": question.pk,
        "attachment": attachment.pk,
        "attachment_chunk": attachment.chunks.get().pk,
        "library_file": library.pk,
        "library_chunk": library.chunks.get().pk,
        "member": victim.pk,
        "prompt": prompt.pk,
    }


def victim_state(ids: dict[str, int]) -> dict:
    """What an attack must not change (read in the victim's schema)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from api.models import ApiToken
    from chat.models import Conversation, Message, Prompt
    from compliance.models import ConversationRedaction, MessageRedaction
    from knowledge.models import KnowledgeChunk, KnowledgeFile
    from tenants.members.models import User

    return {
        "api_tokens": sorted(ApiToken.objects.values_list("id", "name", "revoked_at")),
        "conversations": sorted(Conversation.objects.values_list("id", "title")),
        "messages": sorted(Message.objects.values_list("id", "status", "feedback",
                                                       "feedback_comment", "superseded",
                                                       "chosen")),
        "prompts": sorted(Prompt.objects.values_list("id", "title", "text")),
        "files": sorted(KnowledgeFile.objects.values_list("id", "status", "generation")),
        "chunks": sorted(KnowledgeChunk.objects.values_list("id", flat=True)),
        "redactions": (MessageRedaction.objects.count(), ConversationRedaction.objects.count()),
        "users": sorted(User.objects.values_list("id", "is_active", "role")),
        "second_factors": sorted(TOTPDevice.objects.values_list("id", "user_id", "confirmed")),
    }
