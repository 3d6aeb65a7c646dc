"""What the llm security tests share: the Bot settings form, stored answers."""

from __future__ import annotations

import hashlib

from django_tenants.utils import schema_context

from chat.models import BotConfig, Message
from core import secrets
from tests.conftest import MODEL_KEY
from tests.support.factories import BotConfigFactory
from tests.support.site import Site


def save_bot_settings(site: Site, **connection):
    """POST the Bot settings form as the page would, with these connection fields."""
    form = {"name": "Acme bot", "accent_color": "#112233", "welcome_message": "Hi",
            "suggested_prompts_text": "", "system_instructions": "Be brief.",
            "model": "gpt-4o-mini", "temperature": "0.2", "max_output_tokens": "256",
            "history_messages": "4", "base_url": "", "organization": "", "project": "",
            "api_key": "", "csrfmiddlewaretoken": site.csrf()}
    form.update(connection)
    if not form.get("clear_api_key"):
        form.pop("clear_api_key", None)
    return site.http.post("/settings/bot/", data=form)


def write_connection_directly(result, *, base_url: str, api_key: str | None) -> None:
    """A row as saved before the policy existed (or by any path around the form)."""
    with schema_context(result.client.schema_name):
        BotConfigFactory(base_url=base_url,
                         api_key_encrypted=secrets.encrypt(api_key) if api_key else "",
                         api_key_last4=api_key[-4:] if api_key else "")


def stored_base_url(result) -> str:
    with schema_context(result.client.schema_name):
        return BotConfig.objects.get().base_url


def stored(result, answer_id) -> Message:
    with schema_context(result.client.schema_name):
        return Message.objects.get(pk=answer_id)


def ask_and_finish(site: Site, text: str, conversation_id: int | None = None
                   ) -> tuple[dict, list]:
    sent = site.ask(text, conversation_id)
    return sent, site.events(sent["answer"]["stream_url"], timeout=60)


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


PLATFORM_KEY = MODEL_KEY
ALLOWED_HOST = "127.0.0.2"  # the allow-listed "on-premises gateway" address
CLIENT_KEY = "sk-client-own-key-5678"
