from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from knowledge.search import CJKSearchVector


class BotConfig(models.Model):
    """The client's bot. One row per client schema (see selectors.get_bot_config)."""

    name = models.CharField(max_length=60, default="Assistant")
    accent_color = models.CharField(
        max_length=7, default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #2563eb."))],
    )
    welcome_message = models.TextField(
        max_length=1000, default="Hello! Ask me anything about your work.", blank=True
    )
    suggested_prompts = models.JSONField(default=list, blank=True)
    system_instructions = models.TextField(
        max_length=20000, blank=True,
        default="You are a helpful assistant for the employees of this company. "
        "Answer clearly and concisely.",
    )
    model = models.CharField(max_length=200, default="gpt-4o-mini")
    temperature = models.FloatField(
        default=0.3, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    max_output_tokens = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(16), MaxValueValidator(32768)]
    )
    history_messages = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(100)],
        help_text=_("How many earlier messages of the conversation are sent with a question."),
    )
    # Bring your own key / endpoint. The key is encrypted (core.secrets) and
    # never shown again: only its last four characters are.
    api_key_encrypted = models.TextField(blank=True)
    api_key_last4 = models.CharField(max_length=4, blank=True)
    base_url = models.URLField(max_length=500, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    project = models.CharField(max_length=200, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    class Source(models.TextChoices):
        CHAT = "chat", _("Chat")
        API = "api", _("API")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, default="New chat")
    # Where the question came from: the browser, or the API with a member's token.
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CHAT)
    # False: an API call not kept in the person's history (not in the sidebar,
    # deleted once its answer ends; the audit record of its model call stays).
    in_history = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [models.Index(fields=["user", "-updated", "-id"], name="conv_user_recent")]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        STREAMING = "streaming", _("Streaming")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Stopped")

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)
    # Not stored: the answer's place in its client's line when it was sent
    # over the client's limit of answers in flight (0: it went straight on).
    queued_place: int = 0

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    # The user message an answer replies to; regenerating supersedes the old answer.
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="answers"
    )
    # Versions. `parent` is the message this one follows (None: the first
    # question); messages of one role with the same parent are versions of
    # each other (an edited question, a regenerated answer). `chosen` marks
    # the version shown among its siblings; `superseded` marks every message
    # off the path shown (chat.services.refresh_path keeps it in step), so
    # reads of "the conversation as shown" stay one indexed filter.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    chosen = models.BooleanField(default=True)
    superseded = models.BooleanField(default=False)
    model = models.CharField(max_length=200, blank=True)
    offline = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # What the employee reads, and what the tenant admin needs to fix it.
    error = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    # Knowledge passages the answer was given: [{"chunk_id", "file", "page", ...}].
    citations = models.JSONField(default=list, blank=True)
    feedback = models.SmallIntegerField(null=True, blank=True,
                                        choices=[(1, _("Up")), (-1, _("Down"))])
    feedback_comment = models.TextField(max_length=2000, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    search = models.GeneratedField(
        expression=CJKSearchVector("content", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            GinIndex(fields=["search"], name="message_search"),
            models.Index(fields=["status", "updated"], name="message_status_updated"),
            models.Index(fields=["conversation", "superseded", "id"], name="message_shown"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class Prompt(models.Model):
    """A prompt of the company's library, curated by its tenant admins and
    offered to every employee (on a new chat, and with `/` in the composer)."""

    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), max_length=4000)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class SendRequest(models.Model):
    """The request id the browser sent with a message (one per composed
    message, kept across retries): a repeat of it returns the first result
    instead of storing the question again. Unique per user, so even two
    requests at the same moment store one question (the second waits on the
    unique index, then reads the first's answer)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    request_id = models.CharField(max_length=64)
    answer = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "request_id"],
                                               name="send_request_once_per_user")]

    def __str__(self) -> str:
        return f"request {self.request_id} → answer {self.answer_id}"

