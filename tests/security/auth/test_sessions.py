"""A 404 never ends a session (through the real ASGI web server, where it did)."""

import httpx
import pytest

from tests.security.auth.conftest import admin_login, platform_site
from tests.support.accounts import PASSWORD, signed_in_site


def session_cookie_headers(response) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith("sessionid=")]


def test_unknown_url_on_a_client_site_keeps_the_session(make_client, web_server):
    result = make_client()
    site = signed_in_site(web_server, result)

    # URL resolution, and an async view (the answer stream) raising Http404.
    for path in ("/x", "/no/such/page/", "/accounts/nope", "/answers/999999/stream/"):
        response = site.http.get(path)
        assert response.status_code == 404, path
        assert session_cookie_headers(response) == [], response.headers.get_list("set-cookie")

    home = site.http.get("/")
    assert home.status_code == 200, "signed out by a 404"


def test_the_404_page_is_rendered_for_the_signed_in_person(make_client, web_server):
    result = make_client()
    site = signed_in_site(web_server, result)

    response = site.http.get("/x")

    assert response.status_code == 404
    assert "admin@example.com" in response.text  # the page knew who was signed in


def test_unknown_url_on_the_platform_site_keeps_the_staff_session(staff, web_server):
    site = platform_site(web_server)
    assert admin_login(site, staff.email, PASSWORD).status_code == 302

    missing = site.http.get("/x")

    assert missing.status_code == 404
    assert session_cookie_headers(missing) == []
    assert site.http.get("/admin/").status_code == 200


@pytest.fixture
def one_connection_server(worker_env):
    """A web server whose database pool holds a single connection."""
    from tests.conftest import OUTPUT, WebServer

    OUTPUT.mkdir(exist_ok=True)
    server = WebServer(env={**worker_env, "DB_POOL_MAX_SIZE": "1"},
                       log_path=OUTPUT / "web-server-one-connection.log").start()
    yield server
    server.stop()


def test_error_pages_use_the_requests_own_database_connection(make_client,
                                                            one_connection_server):
    # Django renders these pages in a spare thread; had they opened a connection
    # there, the request's would leave none in the pool for it, and it would
    # have kept its own for good: every later request would wait.
    result = make_client()
    site = signed_in_site(one_connection_server, result)
    site.http.timeout = httpx.Timeout(10)

    for _ in range(3):
        assert site.http.get("/x").status_code == 404
        assert site.http.get("/").status_code == 200
