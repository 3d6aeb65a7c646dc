"""Generated from the tenant URLconf: every route that names an object is
tried with the victim's real ids by an anonymous visitor, a colleague of the
victim, the admin of another client (on their own site) and a session cookie
replayed from another client. Each gets a 404, a 403 (a member on an admin
page) or the login page; never the victim's data, and nothing changes."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.support.doors import (
    ADMIN,
    NON_OBJECT_ARGS,
    OPEN,
    ROUTES,
    SECRET,
    TOKEN,
    tenant_routes,
    url_for,
    victim_state,
)

OBJECT_ROUTES = [route for route in tenant_routes()
                 if set(route.args) - NON_OBJECT_ARGS.keys()]
ATTACKERS = ["anonymous", "colleague", "other-client-admin", "replayed-cookie"]
# What a POST carries: enough for any of these routes to change something.
PAYLOAD = {"text": "hello", "title": "renamed by attacker", "value": "-1",
           "comment": "bad", "active": "0"}


def test_every_object_route_declares_which_victim_object_it_names(world):
    assert OBJECT_ROUTES, "the URLconf has no object routes?"
    for route in OBJECT_ROUTES:
        rule = ROUTES.get(route.name)
        assert rule is not None, f"{route.name} has no rule in tests/support/doors.py"
        assert rule.who != OPEN, f"{route.name} names an object but is open to anyone"
        ids = set(route.args) - NON_OBJECT_ARGS.keys()
        assert ids == set(rule.objects), f"{route.name}: declare the object of {ids}"
        assert set(rule.objects.values()) <= world.ids.keys()


@pytest.fixture(scope="module")
def attackers(world, django_db_blocker):
    """Signed-in browsers, made once (signing in is slow by design)."""
    with django_db_blocker.unblock():
        colleague = world.browser(world.victim_host, "colleague@example.com")
        other_admin = world.browser(world.other_host, "admin@example.com")
        replayed = world.browser(world.victim_host)
        replayed.cookies["sessionid"] = other_admin.cookies["sessionid"].value
        return {"anonymous": world.browser(world.victim_host), "colleague": colleague,
                "other-client-admin": other_admin, "replayed-cookie": replayed}


def _expected(route, attacker: str) -> set[int]:
    if ROUTES[route.name].who == TOKEN:  # a session is no credential here
        return {401, 403, 404}
    if attacker in ("anonymous", "replayed-cookie"):
        return {302}
    if attacker == "colleague" and ROUTES[route.name].who == ADMIN:
        return {403}
    return {404}


@pytest.mark.parametrize("attacker", ATTACKERS)
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda route: route.name)
def test_the_victims_objects_are_out_of_reach(route, attacker, world, attackers, live_db):
    with schema_context(world.victim_schema):
        before = victim_state(world.ids)
    url = url_for(route, world.ids)
    browser = attackers[attacker]

    if ROUTES[route.name].method == "POST":
        response = browser.post(url, PAYLOAD)
    else:
        response = browser.get(url)

    body = (b"".join(response.streaming_content) if response.streaming
            else response.content)
    assert response.status_code in _expected(route, attacker), (
        f"{attacker} on {url}: {response.status_code}")
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/?next=")
    assert SECRET.encode() not in body
    with schema_context(world.victim_schema):
        assert victim_state(world.ids) == before, f"{attacker} changed something via {url}"


def test_the_owner_does_see_the_objects(world, live_db):
    """The same ids do open for their owner: the refusals above are about who asks."""
    browser = world.browser(world.victim_host, "victim@example.com")
    ids = world.ids

    assert SECRET in browser.get(f"/c/{ids['conversation']}/").content.decode()
    assert SECRET in browser.get(f"/answers/{ids['answer']}/").content.decode()
    assert SECRET in browser.get(f"/knowledge/passages/{ids['attachment_chunk']}/").content.decode()
    assert SECRET in browser.get(
        f"/knowledge/c/{ids['conversation']}/attachments/").content.decode()
    admin = world.browser(world.victim_host, "admin@example.com")
    assert SECRET in admin.get(f"/knowledge/files/{ids['library_file']}/chunks/").content.decode()
    assert "victim@example.com" in admin.get(
        f"/settings/member-data/{ids['member']}/export/").content.decode()
