# ruff: noqa: E402, I001 - django.setup() must run before the models are imported
"""Fill a database as the 2026-11-30 release (7dc7292) left it, with that code.

Run by devtools/record_upgrade_fixture.py inside a checkout of 7dc7292 (its
own models and services are imported: this file must not import anything
that release did not have). Writes what the upgrade test needs to know (hosts,
people, texts to look for) as JSON to $UPGRADE_FIXTURE_FACTS.
"""

import json
import os
import sys

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from chat.knowledge import vectors
from chat.knowledge.models import KnowledgeChunk, KnowledgeFile, KnowledgeSettings
from chat.models import BotConfig, Conversation, Message
from compliance import services as compliance_services
from compliance.models import DataControls, NoticeAcceptance
from tenants import services
from tenants.members.models import User

PASSWORD = "upgrade-Password-2026"  # noqa: S105 - fixture accounts only
TOPICS = ["vacation policy", "expense report", "laptop refresh", "parental leave"]


def fill_client(slug: str, index: int) -> dict:
    result = services.create_client(name=f"Upgrade {slug}", slug=slug,
                                    admin_email=f"admin@{slug}.example",
                                    admin_password=PASSWORD)
    facts = {"slug": slug, "host": result.domain.domain, "schema": result.client.schema_name,
             "admin": result.admin.email, "members": [], "conversations": []}
    with schema_context(result.client.schema_name):
        BotConfig.objects.get_or_create(id=1)
        controls = DataControls.objects.first() or DataControls.objects.create()
        controls.redaction_terms = [f"Project {slug.title()}"]
        controls.monthly_token_quota = 1_000_000
        controls.save()
        people = [result.admin]
        for n in range(3):
            people.append(User.objects.create_user(f"member{n}@{slug}.example", PASSWORD,
                                                   role=User.Role.MEMBER,
                                                   first_name=f"Member{n}"))
        User.objects.create_user(f"left@{slug}.example", PASSWORD, role=User.Role.MEMBER,
                                 is_active=False)
        User.objects.create_user(f"admin2@{slug}.example", PASSWORD, role=User.Role.ADMIN)
        for person in people:
            NoticeAcceptance.objects.create(user=person, version=1)
        facts["members"] = [p.email for p in people]

        # Conversations: questions and answers, one regenerated answer (the
        # superseded one stays), a failed answer, feedback, citations.
        for person_index, person in enumerate(people):
            for c in range(2):
                topic = TOPICS[(index + person_index + c) % len(TOPICS)]
                conversation = Conversation.objects.create(user=person, title=f"About {topic}")
                last_answer = None
                for turn in range(3):
                    question = Message.objects.create(
                        conversation=conversation, role="user",
                        content=f"Question {turn} on the {topic} at {slug} ({person.email})")
                    answer = Message.objects.create(
                        conversation=conversation, role="assistant", reply_to=question,
                        content=f"Answer {turn}: the {topic} is explained in the handbook.",
                        status="done", model="gpt-4o-mini", prompt_tokens=30 + turn,
                        completion_tokens=12, latency_ms=800, first_token_ms=200, attempts=1,
                        citations=[{"chunk_id": 1, "file": "handbook.txt", "page": 1}],
                        feedback=1 if turn == 0 else None)
                    if turn == 1:  # regenerated: the first answer is superseded
                        answer.superseded = True
                        answer.save(update_fields=["superseded"])
                        answer = Message.objects.create(
                            conversation=conversation, role="assistant", reply_to=question,
                            content=f"Answer {turn} (again): see the {topic} page.",
                            status="done", model="gpt-4o-mini", attempts=1)
                    last_answer = answer
                if c == 1:
                    question = Message.objects.create(conversation=conversation, role="user",
                                                      content=f"And one more on {topic}?")
                    Message.objects.create(
                        conversation=conversation, role="assistant", reply_to=question,
                        status="failed", error="The model service did not answer.",
                        error_detail="APITimeoutError", attempts=3)
                facts["conversations"].append({
                    "owner": person.email, "id": conversation.id, "title": conversation.title,
                    "last_answer": last_answer.content})
                # An attachment of that release: a file bound to the conversation.
                if c == 0:
                    attached = KnowledgeFile.objects.create(
                        conversation=conversation, uploaded_by=person,
                        display_name=f"{topic}.txt", storage_name=f"att-{conversation.id}.txt",
                        kind="txt", size_bytes=120, sha256="a" * 64, status="ready",
                        chunk_count=1)
                    KnowledgeChunk.objects.create(
                        file=attached, index=0, text=f"Attached notes on the {topic}.",
                        char_count=30)

        # The library: files with passages, and vectors for semantic search.
        KnowledgeSettings.objects.update_or_create(
            id=1, defaults={"semantic_search": True, "embedding_model": "text-embedding-3-small"})
        vectors.ensure_table()
        dimensions = int(settings.KNOWLEDGE_EMBEDDING_DIMENSIONS)
        for f in range(3):
            file = KnowledgeFile.objects.create(
                uploaded_by=result.admin, display_name=f"handbook-{f}.txt",
                storage_name=f"lib-{slug}-{f}.txt", kind="txt", size_bytes=4000,
                sha256=f"{f:064d}", status="ready", chunk_count=4, embedded_chunks=4)
            rows = []
            for n in range(4):
                chunk = KnowledgeChunk.objects.create(
                    file=file, index=n, page=1, heading=f"Section {n}",
                    text=f"The {TOPICS[n]} rules of {slug}, part {f}: ask your manager first.",
                    char_count=60)
                rows.append((chunk.id, [((chunk.id + d) % 7) / 7.0 + 0.01
                                        for d in range(dimensions)]))
            vectors.store(file_id=file.id, rows=rows)
        facts["library_word"] = "manager"

        # The audit chain (plain SHA-256 in that release).
        for n, person in enumerate(people):
            compliance_services.append_audit(
                kind="chat", endpoint="https://api.openai.com/v1", model="gpt-4o-mini",
                status="ok", user_id=person.id, user_email=person.email,
                conversation_id=None, prompt_tokens=40 + n, completion_tokens=20,
                latency_ms=900, redactions={"EMAIL_ADDRESS": n})
        compliance_services.append_audit(kind="embed", endpoint="https://api.openai.com/v1",
                                         model="text-embedding-3-small", status="ok")
    connection.set_schema_to_public()
    return facts


def main() -> None:
    services.migrate_all()
    User.objects.create_superuser("staff@platform.example", PASSWORD)
    clients = [fill_client(slug, index) for index, slug in
               enumerate(["acme", "globex", "initech"])]
    with open(os.environ["UPGRADE_FIXTURE_FACTS"], "w") as out:
        json.dump({"password": PASSWORD, "staff": "staff@platform.example",
                   "clients": clients}, out, indent=1)


main()
