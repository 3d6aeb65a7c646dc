"""A task enqueued inside a client runs in that client's schema, in a real worker."""

import time

import pytest
from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.members.services import invite_member
from tenants.services import site_url

pytestmark = pytest.mark.worker


def wait_for_mail(mail_dir, needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.log"):
            text = path.read_text()
            if needle in text:
                return text
        time.sleep(0.2)
    raise AssertionError(f"no email containing {needle!r} within {timeout}s")


def test_invitation_task_runs_in_the_inviting_clients_schema(
    make_client, celery_worker, worker_mail_dir
):
    a, b = make_client("a"), make_client("b")
    # Same primary keys in both schemas: only the right schema finds the right person.
    with schema_context(a.client.schema_name):
        admin_a = User.objects.get(email="admin@example.com")
        invite_member(email="alice@a.example", role="member", invited_by=admin_a)
    with schema_context(b.client.schema_name):
        admin_b = User.objects.get(email="admin@example.com")
        bob = invite_member(email="bob@b.example", role="member", invited_by=admin_b)
    with schema_context(a.client.schema_name):
        alice = User.objects.get(email="alice@a.example")
    assert alice.pk == bob.pk

    mail_a = wait_for_mail(worker_mail_dir, "To: alice@a.example")
    mail_b = wait_for_mail(worker_mail_dir, "To: bob@b.example")

    assert a.client.name in mail_a and b.client.name not in mail_a
    assert b.client.name in mail_b and a.client.name not in mail_b
    assert f"{site_url(a.domain.domain)}accounts/password/reset/" in mail_a
