"""Reads for data rights: a person's export and the live facts of the "This
workspace's data" page. Nothing here writes."""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from chat import selectors, services
from chat.models import Conversation
from compliance import selectors as compliance_selectors
from knowledge import selectors as knowledge_selectors
from knowledge.models import KnowledgeFile
from tenants.db import current_schema, tenant_connection

# --- The live facts ---------------------------------------------------------------------

def _retention(days: int | None) -> str:
    if days is None:
        return gettext("Kept until deleted (no automatic deletion)")
    return ngettext("Deleted automatically %(days)s day after last use",
                    "Deleted automatically %(days)s days after last use", days) % {"days": days}


def _number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def workspace_facts() -> dict[str, str]:
    """What this client's data handling is right now, read from its settings."""
    config = selectors.get_bot_config()
    endpoint = services.model_endpoint(config)
    controls = compliance_selectors.get_data_controls()
    if endpoint is None:
        where = gettext("None: offline mode, nothing is sent to a model")
    elif endpoint.refusal:
        where = gettext("None: nothing is sent to %(url)s.") % {"url": endpoint.display_url} \
            + f" {endpoint.refusal}"
    else:
        where = (gettext("%(url)s (your own key)") if endpoint.source == "client"
                 else gettext("%(url)s (the platform's key)")) % {"url": endpoint.display_url}
    if controls.redaction_enabled:
        kinds = [gettext(compliance_selectors.ENTITY_LABELS[e]) for e in controls.redaction_entities
                 if e in compliance_selectors.ENTITY_LABELS]
        terms = len(controls.redaction_terms or [])
        redaction = gettext("On: %(kinds)s") % {
            "kinds": ", ".join(kinds) or gettext("no built-in kinds")}
        if terms:
            redaction += ngettext("; plus %(count)s term from your redaction list",
                                  "; plus %(count)s terms from your redaction list",
                                  terms) % {"count": terms}
    else:
        redaction = gettext("Off: messages are sent as written")
    embedded = knowledge_selectors.semantic_search_in_use()
    purge = compliance_selectors.last_purge()
    usage = compliance_selectors.client_usage(controls=controls)
    # Labels and values in the reader's language; numbers and dates in its format.
    return {
        gettext("Model"): config.model,
        gettext("Endpoint"): where,
        gettext("Stored at the model provider"): gettext(
            "Nothing: every request is sent with store=false"),
        gettext("Redaction before the model"): redaction,
        gettext("Conversations"): _retention(controls.conversation_retention_days),
        gettext("Files"): _retention(controls.file_retention_days),
        gettext("Semantic search (document embeddings)"): embedded,
        gettext("Stored conversations"): _number(Conversation.objects.count()),
        gettext("Stored files"): _number(KnowledgeFile.objects.count()),
        gettext("Last purge"): (
            formats.date_format(timezone.localtime(purge.ran_at), "DATETIME_FORMAT")
            + " " + timezone.localtime(purge.ran_at).strftime("%Z")
            if purge else gettext("Never run")),
        gettext("Tokens this month"): (
            gettext("%(used)s of %(quota)s") % {"used": _number(usage.used),
                                                "quota": _number(usage.quota)}
            if usage.quota else
            gettext("%(used)s (no quota)") % {"used": _number(usage.used)}),
    }


# --- Export -------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value else None


def export_user_data(*, user) -> dict:
    """Everything this client stores about `user`, as plain JSON data."""
    conversations = []
    for conversation in Conversation.objects.filter(user=user).order_by("created", "id"):
        messages = list(conversation.messages.order_by("created", "id"))
        notes = compliance_selectors.redactions_for_messages(message_ids=[m.pk for m in messages])
        attachments = (
            [{"name": f.display_name, "kind": f.kind, "size_bytes": f.size_bytes,
              "uploaded": _iso(f.created)}
             for f in KnowledgeFile.objects.filter(conversation=conversation)])
        conversations.append({
            "id": conversation.pk, "title": conversation.title,
            "created": _iso(conversation.created), "updated": _iso(conversation.updated),
            "messages": [{
                "id": m.pk, "role": m.role, "content": m.content, "status": m.status,
                "created": _iso(m.created), "model": m.model or None,
                "feedback": m.feedback, "feedback_comment": m.feedback_comment or None,
                "redacted_before_sending": [
                    {"kind": i["label"], "placeholder": i["placeholder"]}
                    for i in notes.get(m.pk, [])],
            } for m in messages],
            "attachments": attachments,
        })
    uploads = [{"name": f.display_name, "kind": f.kind, "uploaded": _iso(f.created)}
               for f in KnowledgeFile.objects.filter(uploaded_by=user, conversation__isnull=True)]
    return {
        "exported_at": timezone.now().isoformat(),
        "workspace": getattr(tenant_connection().tenant, "name", current_schema()),
        "user": {"email": user.email, "name": user.get_full_name(), "role": user.role,
                 "joined": _iso(user.date_joined)},
        "notice_acceptances": [{"version": a.version, "accepted_at": _iso(a.accepted_at)}
                               for a in user.notice_acceptances.all()],
        "conversations": conversations,
        "library_uploads": uploads,
    }
