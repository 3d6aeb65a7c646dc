"""A victim client with real objects, a colleague of the victim, and a second
client whose admin tries the victim's ids: created once per module."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from tests.e2e.conftest import browser, page  # noqa: F401 - the e2e Chromium, for one test
from tests.support.accounts import PASSWORD, log_in_client
from tests.support.doors import make_victim_objects


@dataclass
class World:
    victim_host: str
    victim_schema: str
    other_host: str
    other_schema: str
    ids: dict[str, int]
    # The victim has an authenticator app (an object the doors tests try): their
    # browsers carry a remembered-browser cookie, so a password signs them in.
    victim_remembered: str = ""

    def browser(self, host: str, email: str | None = None) -> HttpClient:
        http = HttpClient(HTTP_HOST=host)
        if email == "victim@example.com" and self.victim_remembered:
            http.cookies["two_step_remember"] = self.victim_remembered
        return log_in_client(http, email) if email else http


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from tenants import services
    from tenants.members.models import User
    from tenants.members.services import create_member
    from tenants.models import Client

    slugs = [f"doors-{name}-{uuid.uuid4().hex[:6]}" for name in ("victim", "other")]
    with django_db_blocker.unblock():
        victim_client, other_client = (
            services.create_client(slug=slug, name=f"Client {slug}",
                                   admin_email="admin@example.com", admin_password=PASSWORD,
                                   second_factor="off")
            for slug in slugs)
        with schema_context(victim_client.client.schema_name):
            victim = create_member(email="victim@example.com", password=PASSWORD)
            create_member(email="colleague@example.com", password=PASSWORD)
            admin = User.objects.get(email="admin@example.com")
            ids = make_victim_objects(victim=victim, admin=admin)
            # The victim's authenticator app, for the route that removes one.
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from tenants.two_step import services as two_step

            ids["second_factor"] = TOTPDevice.objects.create(
                user=victim, name="Phone victim-secret-7f3a", confirmed=True).pk
            remembered, _lifetime = two_step.remember_browser(user=victim)
        with schema_context(other_client.client.schema_name):
            # The other client's admin tries these ids on their own site: none of
            # them may name an object there, or a 200 would prove nothing.
            from chat.models import Conversation, Message
            from knowledge.models import KnowledgeChunk, KnowledgeFile

            assert not Conversation.objects.exists() and not Message.objects.exists()
            assert not KnowledgeFile.objects.exists() and not KnowledgeChunk.objects.exists()
            assert not User.objects.filter(pk=ids["member"]).exists()
        connection.set_schema_to_public()
    yield World(victim_host=victim_client.domain.domain,
                victim_schema=victim_client.client.schema_name,
                other_host=other_client.domain.domain,
                other_schema=other_client.client.schema_name, ids=ids,
                victim_remembered=remembered)
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for client in Client.objects.filter(slug__in=slugs):
            services.delete_client(client=client)
