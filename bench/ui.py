"""How fast the chat page serves with a lot of history.

    python bench/ui.py [--conversations 10000] [--messages 500] [--requests 200]

Creates one bench client whose employee has N conversations (their `updated`
times spread over the past weeks, as real use leaves them) and one more
conversation of M messages, then measures through the full middleware stack
(Django's test client: host routing, session, tenant schema, template):

- the chat home page: the sidebar's first page of conversations;
- a deep sidebar page (keyset cursor near the oldest conversation): the
  same cost as the first, or the paging would not scale;
- the sidebar's query alone (selectors.sidebar_page);
- the M-message conversation page (server time; the browser's paint time is
  measured by tests/e2e/test_chat_ui_browser.py).

Prints p50/p99 in ms. Runs against its own embedded database (.data/bench)
unless DATABASE_URL is set, and deletes the bench client at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/bench")
os.environ.setdefault("TUNEAIBOT_DEV", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from devtools.embedded import ensure_services  # noqa: E402

ensure_services(stop_at_exit=True)  # embedded PostgreSQL/Redis where no URL is set

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from chat import selectors  # noqa: E402
from chat.models import Conversation, Message  # noqa: E402
from tenants import services  # noqa: E402
from tenants.members.models import User  # noqa: E402
from tenants.models import Client  # noqa: E402

SLUG = "bench-ui"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def timed(fn, requests: int) -> list[float]:
    fn()  # warm up
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def fill(*, user, conversations: int, messages: int) -> int:
    """N conversations, one of M messages; returns the long one's id."""
    Conversation.objects.bulk_create(
        [Conversation(user=user, title=f"Conversation {n}") for n in range(conversations)],
        batch_size=2000)
    with connection.cursor() as cursor:  # spread over the past weeks, newest last made
        cursor.execute("UPDATE chat_conversation SET updated = now() - "
                       "((SELECT max(id) FROM chat_conversation) - id) * interval '3 minutes'")
    long = Conversation.objects.create(user=user, title="A long conversation")
    parent = None
    for n in range(messages // 2):
        question = Message.objects.create(conversation=long, role="user", parent=parent,
                                          content=f"Question {n}: what about item {n}?")
        parent = Message.objects.create(
            conversation=long, role="assistant", reply_to=question, parent=question,
            status="done", model="gpt-4o-mini", latency_ms=900, completion_tokens=60,
            content=f"Answer {n}. Some **bold** text and a list:\n\n- one\n- two\n\n"
                    + (f"```python\nprint('item {n}')\n```\n" if n % 10 == 0 else "")
                    + "A longer paragraph of ordinary words. " * 6)
    return long.pk


def cleanup() -> None:
    connection.set_schema_to_public()
    for client in Client.objects.filter(slug=SLUG):
        services.delete_client(client=client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    setup_test_environment()
    services.migrate_all()
    cleanup()
    try:
        made = services.create_client(name="Bench UI", slug=SLUG, admin_email="a@bench.example",
                                      admin_password="bench-password-123")
        schema = made.client.schema_name
        with schema_context(schema):
            user = User.objects.get(email="a@bench.example")
            started = time.perf_counter()
            long_id = fill(user=user, conversations=args.conversations, messages=args.messages)
            print(f"filled in {time.perf_counter() - started:.1f} s")
            oldest = Conversation.objects.filter(user=user).order_by("updated", "id")[60]
            deep_cursor = selectors._cursor_of(oldest)
            browser = HttpClient(HTTP_HOST=made.domain.domain)
            browser.force_login(user)

        def get(path):
            def fetch():
                response = browser.get(path)
                assert response.status_code == 200, (path, response.status_code)
            return fetch

        def query():
            with schema_context(schema):
                page = selectors.sidebar_page(user=user)
                assert sum(len(g.conversations) for g in page.groups) == \
                    selectors.SIDEBAR_PAGE_SIZE

        rows = [
            (f"chat home, sidebar of {args.conversations:,} (ms)", timed(get("/"), args.requests)),
            ("sidebar page near the oldest (ms)",
             timed(get(f"/?before={deep_cursor}"), args.requests)),
            ("sidebar query alone (ms)", timed(query, args.requests)),
            (f"conversation of {args.messages} messages (ms)",
             timed(get(f"/c/{long_id}/"), max(20, args.requests // 10))),
        ]
    finally:
        cleanup()

    print(f"\n{'measure':<44} {'n':>5} {'p50':>8} {'p99':>8}")
    for label, values in rows:
        print(f"{label:<44} {len(values):>5} {statistics.median(values):>8.1f} "
              f"{percentile(values, 99):>8.1f}")


if __name__ == "__main__":
    main()
