# ruff: noqa: E402, I001 - django.setup() must run before the models are imported
"""Fill a database as the 2026-12-07 release (a24aef1) left it, with that code.

Run by devtools/record_upgrade_fixture.py inside a checkout of a24aef1; it may
only import what that release had. Beyond the 2026-11-30 filler: message
versions (regenerated answers, edited questions), the prompt library, send
requests, library files with WordLlama and MiniLM vectors, a signed audit
chain, single sign-on settings with external identities and a SCIM token,
each client's country and language. Writes the facts the upgrade test needs
to $UPGRADE_FIXTURE_FACTS.
"""

import json
import os
import sys

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from chat.models import BotConfig, Conversation, Message, Prompt, SendRequest
from compliance import services as compliance_services
from compliance.models import DataControls, NoticeAcceptance
from knowledge import vectors
from knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings
from tenants import services
from tenants.members.models import User
from tenants.sso import selectors as sso_selectors
from tenants.sso import services as sso_services
from tenants.sso.models import ExternalIdentity

PASSWORD = "upgrade-Password-2026"  # noqa: S105 - fixture accounts only
TOPICS = ["vacation policy", "expense report", "laptop refresh", "parental leave"]
CLIENTS = [("acme", "US", ""), ("globex", "KR", "ko"), ("initech", "JP", "ja")]


def answer(conversation, parent, text, **fields):
    fields.setdefault("status", "done")
    return Message.objects.create(
        conversation=conversation, role="assistant", reply_to=parent, parent=parent,
        content=text, model="gpt-4o-mini", prompt_tokens=30, completion_tokens=12,
        latency_ms=700, first_token_ms=150, attempts=1, **fields)


def fill_conversation(person, topic: str, slug: str, with_versions: bool) -> dict:
    conversation = Conversation.objects.create(user=person, title=f"About {topic}")
    q1 = Message.objects.create(conversation=conversation, role="user", parent=None,
                                content=f"Question 0 on the {topic} at {slug} ({person.email})")
    a1 = answer(conversation, q1, f"Answer 0: the {topic} is explained in the handbook.",
                citations=[{"chunk_id": 1, "file": "handbook.txt", "page": 1}], feedback=1)
    last = a1
    if with_versions:
        # Regenerated: the first answer stays as version 1/2, not shown.
        a1.chosen, a1.superseded = False, True
        a1.save(update_fields=["chosen", "superseded"])
        a1b = answer(conversation, q1, f"Answer 0 (again): see the {topic} page.")
        # Edited question: the first wording and its answer stay, not shown.
        q2 = Message.objects.create(conversation=conversation, role="user", parent=a1b,
                                    content=f"Who approves the {topic}?", chosen=False,
                                    superseded=True)
        answer(conversation, q2, "Your manager approves it.", chosen=True, superseded=True)
        q2b = Message.objects.create(conversation=conversation, role="user", parent=a1b,
                                     content=f"Who approves the {topic} at {slug}?")
        last = answer(conversation, q2b, f"Answer 1: HR approves the {topic} at {slug}.")
    request = SendRequest.objects.create(user=person, request_id=f"req-{conversation.id}",
                                         answer=last)
    assert request.pk
    return {"owner": person.email, "id": conversation.id, "title": conversation.title,
            "last_answer": last.content}


def fill_client(slug: str, country: str, language: str, index: int) -> dict:
    result = services.create_client(name=f"Upgrade {slug}", slug=slug,
                                    admin_email=f"admin@{slug}.example",
                                    admin_password=PASSWORD, country=country)
    client = result.client
    client.default_language = language
    client.save(update_fields=["default_language"])
    facts = {"slug": slug, "host": result.domain.domain, "schema": client.schema_name,
             "admin": result.admin.email, "members": [], "conversations": []}
    with schema_context(client.schema_name):
        BotConfig.objects.update_or_create(id=1, defaults={"name": f"{slug} helper"})
        controls = DataControls.objects.first() or DataControls.objects.create()
        controls.redaction_terms = [f"Project {slug.title()}"]
        controls.monthly_token_quota = 1_000_000
        controls.save()
        people = [result.admin]
        for n in range(3):
            people.append(User.objects.create_user(f"member{n}@{slug}.example", PASSWORD,
                                                   role=User.Role.MEMBER,
                                                   first_name=f"Member{n}"))
        left = User.objects.create_user(f"left@{slug}.example", PASSWORD,
                                        role=User.Role.MEMBER, is_active=False)
        admin2 = User.objects.create_user(f"admin2@{slug}.example", PASSWORD,
                                          role=User.Role.ADMIN)
        sso_user = User.objects.create_user(f"sso@{slug}.example", None, role=User.Role.MEMBER)
        for person in people:
            NoticeAcceptance.objects.create(user=person, version=controls.notice_version)
        facts["members"] = [p.email for p in people]

        # Single sign-on (configured, not the only way in) and SCIM.
        config = sso_selectors.get_settings()
        sso_services.save_settings(values={
            "enabled": index == 1, "company_label": f"{slug} login",
            "issuer": f"https://login.{slug}.example", "client_id": f"{slug}-tuneaibot",
            "allowed_domains": f"{slug}.example", "admin_group": "tuneaibot-admins",
            "break_glass_user": result.admin}, client_secret=f"{slug}-client-secret-0001")
        sso_services.rotate_scim_token()
        assert config.pk
        ExternalIdentity.objects.create(user=sso_user, issuer=f"https://login.{slug}.example",
                                        subject=f"sub-{slug}-1", scim_external_id="ext-1",
                                        created_by_scim=True, last_sso_login_at=timezone.now())
        ExternalIdentity.objects.create(user=left, scim_external_id="ext-2",
                                        created_by_scim=True)
        ExternalIdentity.objects.create(user=admin2, issuer=f"https://login.{slug}.example",
                                        subject=f"sub-{slug}-2")

        Prompt.objects.create(title="Summarise", text="Summarise this in three points.")
        Prompt.objects.create(title="Translate", text="Translate this into English.")

        for person_index, person in enumerate(people):
            for c in range(2):
                topic = TOPICS[(index + person_index + c) % len(TOPICS)]
                facts["conversations"].append(
                    fill_conversation(person, topic, slug, with_versions=c == 0))
                if c == 1:
                    conversation = Conversation.objects.get(pk=facts["conversations"][-1]["id"])
                    question = Message.objects.create(
                        conversation=conversation, role="user",
                        parent=conversation.messages.order_by("-id").first(),
                        content=f"And one more on {topic}?")
                    answer(conversation, question, "", status="failed",
                           error="The model service did not answer.",
                           error_detail="APITimeoutError")
                    # An attachment: a file bound to the conversation.
                    attached = KnowledgeFile.objects.create(
                        conversation=conversation, uploaded_by=person,
                        display_name=f"{topic}.txt", storage_name=f"att-{conversation.id}.txt",
                        kind="txt", size_bytes=120, sha256="a" * 64, status="ready",
                        chunk_count=1)
                    KnowledgeChunk.objects.create(
                        file=attached, index=0, text=f"Attached notes on the {topic}.",
                        char_count=30)

        # The library, with fast (WordLlama-size) and MiniLM vectors.
        KnowledgeSettings.objects.update_or_create(
            id=1, defaults={"semantic_search": True, "embedding_provider": "local"})
        vectors.ensure_table(dimensions=256, table=vectors.TABLE)
        vectors.ensure_table(dimensions=384, table=vectors.MINILM_TABLE)
        for f in range(3):
            file = KnowledgeFile.objects.create(
                uploaded_by=result.admin, display_name=f"handbook-{f}.txt",
                storage_name=f"lib-{slug}-{f}.txt", kind="txt", size_bytes=4000,
                sha256=f"{f:064d}", library_sha256=f"{f + 10 * index:064d}", status="ready",
                chunk_count=4, embedded_chunks=4, minilm_chunks=4, indexed_at=timezone.now())
            fast, minilm = [], []
            for n in range(4):
                chunk = KnowledgeChunk.objects.create(
                    file=file, index=n, page=1, heading=f"Section {n}",
                    text=f"The {TOPICS[n]} rules of {slug}, part {f}: ask your manager first.",
                    char_count=60)
                fast.append((chunk.id, [((chunk.id + d) % 7) / 7.0 + 0.01 for d in range(256)]))
                minilm.append((chunk.id, [((chunk.id + d) % 5) / 5.0 + 0.01
                                          for d in range(384)]))
            vectors.store(file_id=file.id, rows=fast, table=vectors.TABLE)
            vectors.store(file_id=file.id, rows=minilm, table=vectors.MINILM_TABLE)
        facts["library_word"] = "manager"

        # The audit chain, signed with TUNEAIBOT_AUDIT_KEYS.
        for n, person in enumerate(people):
            compliance_services.append_audit(
                kind="chat", endpoint="https://api.openai.com/v1", model="gpt-4o-mini",
                status="ok", user_id=person.id, user_email=person.email,
                prompt_tokens=40 + n, completion_tokens=20, latency_ms=900,
                redactions={"EMAIL_ADDRESS": n})
        compliance_services.append_audit(kind="embed", endpoint="https://api.openai.com/v1",
                                         model="text-embedding-3-small", status="ok")
    connection.set_schema_to_public()
    return facts


def main() -> None:
    services.migrate_all()
    User.objects.create_superuser("staff@platform.example", PASSWORD)
    clients = [fill_client(slug, country, language, index)
               for index, (slug, country, language) in enumerate(CLIENTS)]
    with open(os.environ["UPGRADE_FIXTURE_FACTS"], "w") as out:
        json.dump({"password": PASSWORD, "staff": "staff@platform.example",
                   "clients": clients}, out, indent=1)


main()
