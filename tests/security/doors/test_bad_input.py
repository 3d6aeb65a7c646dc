"""Text the database cannot store (NUL characters, lone surrogates, invalid
UTF-8) is a 400 with a sentence, never a 500, wherever a person can type:
query parameters, form fields, JSON bodies and upload file names, on every
route of a client's site (tenants/bad_input.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tests.support.accounts import PASSWORD
from tests.support.doors import ADMIN, MEMBER, ROUTES, SECRET, tenant_routes, url_for
from tests.support.site import Site

ROOT = Path(__file__).resolve().parents[3]
ROUTE_LIST = tenant_routes()


def typed_field_names() -> set[str]:
    """Every name a person can type into: the fields of every form, and every
    parameter a view reads straight from request.GET / request.POST."""
    from chat.forms import BotConfigForm, MessageForm
    from compliance.forms import AuditFilterForm, DataControlsForm
    from tenants.members.forms import InviteForm

    names: set[str] = set()
    for form in (MessageForm, BotConfigForm, DataControlsForm, AuditFilterForm, InviteForm,
                 auth_forms.AuthenticationForm, auth_forms.PasswordResetForm,
                 auth_forms.SetPasswordForm, auth_forms.PasswordChangeForm):
        assert issubclass(form, forms.BaseForm)
        names |= set(form.base_fields)
    raw = re.compile(r"request\.(?:GET|POST)(?:\.get\(|\[)[\"'](\w+)[\"']")
    for folder in ("chat", "compliance", "tenants", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(raw.findall(path.read_text()))
    return names


FIELDS = sorted(typed_field_names())
MESSAGE = "characters that cannot be stored"


def test_the_field_list_is_not_empty():
    assert {"text", "title", "comment", "q", "page", "username", "email"} <= set(FIELDS)


@pytest.fixture(scope="module")
def browsers(world, django_db_blocker):
    with django_db_blocker.unblock():
        return {"open": world.browser(world.victim_host),
                MEMBER: world.browser(world.victim_host, "victim@example.com"),
                ADMIN: world.browser(world.victim_host, "admin@example.com")}


def _query(value: str) -> str:
    return "&".join(f"{name}={value}" for name in FIELDS)


NUL = quote("a\x00b")
BAD_QUERIES = {
    "nul": _query(NUL),
    "lone-surrogate": _query("%ED%A0%80"),  # UTF-8 spelling of U+D800: invalid
    "invalid-utf8": _query("%FF%FE"),
    "nul-in-name": f"{NUL}=1",
}


def _assert_refused(response, where: str) -> None:
    assert response.status_code == 400, f"{where}: {response.status_code}"
    body = response.content.decode()
    assert MESSAGE in body, where
    assert SECRET not in body


def _browser(browsers, route):
    """Whoever the route is for (so the view would really run), else nobody."""
    who = ROUTES[route.name].who
    return browsers[who] if who in (MEMBER, ADMIN) else browsers["open"]


# /healthz is answered before the tenant lookup and reads no input at all
# (tenants.middleware.HealthCheckMiddleware): nothing typed there reaches anything.
READS_INPUT = [route for route in ROUTE_LIST if route.name != "healthz"]


@pytest.mark.parametrize("kind", sorted(BAD_QUERIES))
@pytest.mark.parametrize("route", READS_INPUT, ids=lambda route: route.name)
def test_bad_text_in_the_query_string(route, kind, world, browsers, live_db):
    browser = _browser(browsers, route)
    url = f"{url_for(route, world.ids)}?{BAD_QUERIES[kind]}"

    response = browser.generic(ROUTES[route.name].method, url)

    _assert_refused(response, url)


@pytest.mark.parametrize("encoding", ["form", "multipart", "json-nul", "json-surrogate",
                                      "json-invalid-utf8"])
@pytest.mark.parametrize("route", [r for r in ROUTE_LIST if ROUTES[r.name].method == "POST"
                                   or r.name in ("login", "password_reset",
                                                 "password_reset_confirm", "members",
                                                 "chat:bot-settings",
                                                 "compliance:data-controls")],
                         ids=lambda route: route.name)
def test_bad_text_in_the_body(route, encoding, world, browsers, live_db):
    browser = _browser(browsers, route)
    url = url_for(route, world.ids)
    fields = {name: "a\x00b" for name in FIELDS}

    if encoding == "form":
        response = browser.post(url, "&".join(f"{n}={NUL}" for n in FIELDS),
                                content_type="application/x-www-form-urlencoded")
    elif encoding == "multipart":
        response = browser.post(url, fields)
    elif encoding == "json-nul":
        response = browser.post(url, json.dumps(fields), content_type="application/json")
    elif encoding == "json-surrogate":
        response = browser.post(url, json.dumps({n: "\ud800" for n in FIELDS}),
                                content_type="application/json")
    else:
        response = browser.post(url, b'{"text": "\xff"}', content_type="application/json")

    _assert_refused(response, f"{encoding} to {url}")


@pytest.mark.parametrize("name", ["knowledge:upload", "chat:attach"])
def test_a_nul_in_an_upload_name_is_not_an_error(name, world, browsers, live_db):
    """Django drops unprintable characters from upload names itself; the file
    is refused or accepted on its merits, and no stored name holds a NUL."""
    from knowledge.models import KnowledgeFile

    [route] = [r for r in ROUTE_LIST if r.name == name]
    browser = _browser(browsers, route)

    response = browser.post(url_for(route, world.ids),
                            {"file": SimpleUploadedFile("notes\x00.txt", b"hello there")},
                            HTTP_ACCEPT="application/json")

    assert response.status_code < 500
    with schema_context(world.victim_schema):
        assert all("\x00" not in n
                   for n in KnowledgeFile.objects.values_list("display_name", flat=True))


def test_a_nul_byte_changes_nothing_and_the_person_is_told(world, browsers, live_db):
    from chat.models import Conversation, Message

    victim = browsers[MEMBER]
    ids = world.ids
    with schema_context(world.victim_schema):
        title = Conversation.objects.get(pk=ids["conversation"]).title
        messages = Message.objects.count()

    sent = victim.post(f"/c/{ids['conversation']}/send/", {"text": "hi\x00"},
                       HTTP_ACCEPT="application/json")
    renamed = victim.post(f"/c/{ids['conversation']}/rename/", {"title": "x\x00y"})
    feedback = victim.post(f"/answers/{ids['answer']}/feedback/",
                           {"value": "-1", "comment": "bad\x00"})
    search = victim.get("/?q=%00")

    assert sent.status_code == 400 and MESSAGE in sent.json()["error"]
    for response in (renamed, feedback, search):
        assert response.status_code == 400 and MESSAGE in response.content.decode()
    with schema_context(world.victim_schema):
        assert Conversation.objects.get(pk=ids["conversation"]).title == title
        assert Message.objects.count() == messages
        assert Message.objects.get(pk=ids["answer"]).feedback is None


def test_ordinary_non_ascii_text_still_works(world, browsers, live_db):
    from chat.models import Conversation

    victim = browsers[MEMBER]
    ids = world.ids

    renamed = victim.post(f"/c/{ids['conversation']}/rename/",
                          {"title": f"Grüße, 東京 😀 ‘quotes’ {SECRET}"})
    search = victim.get("/", {"q": "Grüße, 東京 😀"})

    assert renamed.status_code == 302
    assert search.status_code == 200 and "Grüße, 東京 😀" in search.content.decode()
    with schema_context(world.victim_schema):
        assert Conversation.objects.get(pk=ids["conversation"]).title.startswith("Grüße, 東京 😀")


def test_over_real_http_the_answer_stream_refuses_bad_input(world, web_server, live_db):
    """Through uvicorn (ASGI, where query strings arrive differently) and the
    async answer stream, whose resume point comes from a header."""
    site = Site(web_server.url(world.victim_host))
    # The victim has an authenticator app; this browser is a remembered one.
    site.http.cookies.set("two_step_remember", world.victim_remembered)
    site.login("victim@example.com", PASSWORD)
    stream = f"/answers/{world.ids['answer']}/stream/"

    assert site.http.get(f"/?q={NUL}").status_code == 400
    assert site.http.get("/?q=%ED%A0%80").status_code == 400
    assert site.http.get(f"{stream}?after={NUL}").status_code == 400
    refused = site.http.get(stream, headers={"Last-Event-ID": "0-0; DROP"})
    assert refused.status_code == 400 and "not valid" in refused.json()["error"]
    upload = site.http.post("/knowledge/attach/", files={"file": ("a.txt", b"hello")},
                            data={"note": "a\x00b"},
                            headers={"X-CSRFToken": site.csrf(), "Accept": "application/json"})
    assert upload.status_code == 400 and MESSAGE in upload.json()["error"]


def test_a_cookie_holding_a_nul_is_ignored_not_a_500(world, live_db):
    browser = world.browser(world.victim_host)
    browser.cookies["sessionid"] = "abcdefgh\x00ijkl"
    browser.cookies["csrftoken"] = "abc\x00"

    home = browser.get("/")
    login = browser.get("/accounts/login/")

    assert home.status_code == 302 and home["Location"].startswith("/accounts/login/")
    assert login.status_code == 200


def test_the_platform_site_refuses_bad_text_too(live_db, host_client):
    from django.conf import settings

    platform = host_client(settings.BASE_DOMAIN)

    assert platform.get("/compliance/?q=%00").status_code == 400
    assert platform.post("/admin/login/", {"username": "a\x00", "password": "x"}).status_code == 400
