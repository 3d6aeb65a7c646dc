"""Routing by host, and isolation of users and sessions between clients."""

from django.conf import settings
from django_tenants.utils import schema_context

from core.version import version
from tests.support.accounts import ADMIN_EMAIL, LOGIN_PATH, signed_in_client
from tests.support.factories import MemberFactory


def test_unknown_host_is_a_plain_404_page(live_db, host_client):
    response = host_client(f"nobody-here.{settings.BASE_DOMAIN}").get("/")
    assert response.status_code == 404
    assert "No workspace here" in response.content.decode()


def test_platform_site_is_served_at_base_domain(live_db, host_client):
    response = host_client(settings.BASE_DOMAIN).get("/")
    assert response.status_code == 200
    assert "TuneAIBot platform" in response.content.decode()


def test_each_host_routes_to_its_own_schema(make_client, host_client):
    a, b = make_client("a"), make_client("b")
    for result in (a, b):
        browser = signed_in_client(result)
        assert result.client.name in browser.get("/").content.decode()


def test_same_email_in_two_clients_is_two_accounts(make_client, host_client):
    a = make_client("a", admin_password="password-for-client-a")
    b = make_client("b", admin_password="password-for-client-b")

    # Client B's password does not open client A's account with the same email.
    response = host_client(a.domain.domain).post(
        LOGIN_PATH, {"username": ADMIN_EMAIL, "password": "password-for-client-b"})
    assert response.status_code == 200  # the form again, with an error
    assert "do not match" in response.content.decode()

    with schema_context(a.client.schema_name):
        MemberFactory(email="only-in-a@example.com", password="pw-only-in-a-123")
    response = host_client(b.domain.domain).post(
        LOGIN_PATH, {"username": "only-in-a@example.com", "password": "pw-only-in-a-123"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_session_from_one_client_is_not_valid_on_another(make_client, host_client):
    a, b = make_client("a"), make_client("b")
    browser_a = signed_in_client(a)
    session_cookie = browser_a.cookies["sessionid"].value

    intruder = host_client(b.domain.domain)
    intruder.cookies["sessionid"] = session_cookie
    response = intruder.get("/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_cache_keys_are_prefixed_with_the_schema(make_client):
    from django.core.cache import cache

    a, b = make_client("a"), make_client("b")
    with schema_context(a.client.schema_name):
        cache.set("greeting", "hello from a", 30)
    with schema_context(b.client.schema_name):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from b", 30)
    with schema_context(a.client.schema_name):
        assert cache.get("greeting") == "hello from a"


def test_healthz_reports_database_and_redis(live_db, host_client):
    response = host_client(settings.BASE_DOMAIN).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok",
                               "version": version()}


def test_healthz_names_redis_when_it_is_down(live_db, host_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = host_client(settings.BASE_DOMAIN).get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "down"
    assert response.json()["database"] == "ok"
