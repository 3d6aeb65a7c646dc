"""factory_boy factories for the main models.

They write to the schema the connection is in, so call them inside
`schema_context(result.client.schema_name)` for a client's own data (members,
conversations, messages, files) and in the public schema for clients.

    with schema_context(result.client.schema_name):
        question = QuestionFactory(conversation__user=admin, content="Hi")
        answer = AnswerFactory(reply_to=question, status="streaming")

Models are named by "app_label.Model" so a factory never imports an app's
models at collection time (before Django is set up).
"""

from __future__ import annotations

import datetime as dt
import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.support.accounts import ADMIN_EMAIL, PASSWORD


def _age(model_class, pk: int, field: str, days: float | None) -> None:
    """Date a row back by `days` (auto_now fields ignore values given on save)."""
    if days is not None:
        model_class.objects.filter(pk=pk).update(
            **{field: timezone.now() - dt.timedelta(days=days)})


# --- People ------------------------------------------------------------------------------

class MemberFactory(DjangoModelFactory):
    """A member of the current client (tenants.members.User), password PASSWORD."""

    class Meta:
        model = "members.User"

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    password = PASSWORD
    role = "member"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The manager hashes the password and normalises the e-mail, as sign-up does.
        return model_class.objects.create_user(kwargs.pop("email"), kwargs.pop("password"),
                                               **kwargs)


class AdminFactory(MemberFactory):
    role = "admin"


def client_admin():
    """The first tenant admin make_client created in the current schema."""
    from tenants.members.models import User

    return User.objects.get(email=ADMIN_EMAIL)


# --- The bot -----------------------------------------------------------------------------

class BotConfigFactory(DjangoModelFactory):
    """The current client's one bot configuration, with the fields given saved on it
    (written as is, around the settings form and its checks)."""

    class Meta:
        model = "chat.BotConfig"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from chat.selectors import get_bot_config

        config = get_bot_config()  # there is one per client
        for name, value in kwargs.items():
            setattr(config, name, value)
        if kwargs:
            config.save(update_fields=list(kwargs))
        return config


# --- Conversations -----------------------------------------------------------------------

class ConversationFactory(DjangoModelFactory):
    """A conversation; age_days=N dates its last activity N days back."""

    class Meta:
        model = "chat.Conversation"
        skip_postgeneration_save = True

    user = factory.SubFactory(MemberFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")

    @factory.post_generation
    def age_days(obj, create, days, **kwargs):
        if create:
            _age(type(obj), obj.pk, "updated", days)


class QuestionFactory(DjangoModelFactory):
    """What a member asked (a user-role message)."""

    class Meta:
        model = "chat.Message"

    conversation = factory.SubFactory(ConversationFactory)
    role = "user"
    content = factory.Sequence(lambda n: f"Question {n}?")
    status = "done"


class AnswerFactory(DjangoModelFactory):
    """The assistant's answer to a question (finished unless status says otherwise);
    without a reply_to it answers a new question in a new conversation."""

    class Meta:
        model = "chat.Message"
        skip_postgeneration_save = True

    reply_to = factory.SubFactory(QuestionFactory)
    parent = factory.SelfAttribute("reply_to")  # an answer follows its question
    conversation = factory.SelfAttribute("reply_to.conversation")
    role = "assistant"
    status = "done"
    # Pending and streaming answers have no text yet.
    content = factory.LazyAttributeSequence(
        lambda o, n: f"Answer {n}." if o.status in ("done", "failed", "cancelled") else "")

    @factory.post_generation
    def age_minutes(obj, create, minutes, **kwargs):
        """Date the answer's last write back (how stuck answers look)."""
        if create and minutes is not None:
            _age(type(obj), obj.pk, "updated", minutes / (24 * 60))


# --- Knowledge -----------------------------------------------------------------------------

class KnowledgeFileFactory(DjangoModelFactory):
    """A stored, ready file (library, or an attachment when conversation is given);
    `content` is written where the file store keeps it; age_days dates its upload back."""

    class Meta:
        model = "knowledge.KnowledgeFile"
        skip_postgeneration_save = True

    content = b"hello"
    display_name = factory.Sequence(lambda n: f"document-{n}.txt")
    storage_name = factory.LazyFunction(lambda: uuid.uuid4().hex)
    kind = "txt"
    size_bytes = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = "0" * 64
    uploaded_by = factory.SubFactory(MemberFactory)
    conversation = None
    status = "ready"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from knowledge import services as knowledge_services

        content = kwargs.pop("content")
        file = super()._create(model_class, *args, **kwargs)
        path = knowledge_services.stored_path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return file

    @factory.post_generation
    def age_days(obj, create, days, **kwargs):
        if create:
            _age(type(obj), obj.pk, "created", days)


class KnowledgeChunkFactory(DjangoModelFactory):
    """A passage of a file."""

    class Meta:
        model = "knowledge.KnowledgeChunk"

    file = factory.SubFactory(KnowledgeFileFactory)
    index = factory.Sequence(int)
    page = 1
    text = factory.Sequence(lambda n: f"Passage {n}.")
    char_count = factory.LazyAttribute(lambda o: len(o.text))
