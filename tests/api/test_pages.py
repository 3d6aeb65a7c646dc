"""The API's pages and doors in-process (Django's test client, real
PostgreSQL): the "Use the assistant from your tools" page in en/ko/ja, the
OpenAPI document, CORS only for origins the client lists."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from api import services
from tests.support.accounts import ADMIN_EMAIL, signed_in_client


@pytest.fixture
def acme(make_client):
    return make_client("apipages")


@pytest.mark.parametrize(("language", "heading"), [
    ("en", "Use the assistant from your tools"),
    ("ko", "내 도구에서 어시스턴트 사용하기"),
    ("ja", "自分のツールからアシスタントを使う"),
])
def test_the_docs_page_shows_the_sites_base_url_and_model(acme, language, heading):
    http = signed_in_client(acme)
    http.post("/accounts/language/", {"language": language})

    html = http.get("/api/").content.decode()

    assert heading in html
    assert f"http://{acme.domain.domain}/v1" in html
    assert 'model="assistant"' in html or "&quot;assistant&quot;" in html


def test_the_openapi_document_names_the_paths_and_the_server(acme):
    http = signed_in_client(acme)

    document = http.get("/api/openapi.json").json()

    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/models", "/chat/completions"}
    assert document["servers"] == [{"url": f"http://{acme.domain.domain}/v1"}]
    props = document["paths"]["/chat/completions"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]
    from api.completions import ACCEPTED_FIELDS

    assert set(props) == ACCEPTED_FIELDS


def test_cors_is_off_unless_the_client_lists_the_origin(acme):
    from tenants.members.models import User

    with schema_context(acme.client.schema_name):
        secret = services.create_token(user=User.objects.get(email=ADMIN_EMAIL), name="x")[1]
    http = HttpClient(HTTP_HOST=acme.domain.domain)
    origin = "https://tools.example.com"

    refused = http.options("/v1/chat/completions", HTTP_ORIGIN=origin,
                           HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    plain = http.get("/v1/models", HTTP_ORIGIN=origin, HTTP_AUTHORIZATION=f"Bearer {secret}")
    with schema_context(acme.client.schema_name):
        services.update_api_settings(enabled=True, cors_origins=[origin])
    allowed = http.options("/v1/chat/completions", HTTP_ORIGIN=origin,
                           HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    listed = http.get("/v1/models", HTTP_ORIGIN=origin, HTTP_AUTHORIZATION=f"Bearer {secret}")
    other = http.get("/v1/models", HTTP_ORIGIN="https://evil.example",
                     HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in allowed["Access-Control-Allow-Headers"]
    assert listed["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in other


def test_a_token_in_the_query_string_or_a_session_is_no_credential(acme):
    from tenants.members.models import User

    with schema_context(acme.client.schema_name):
        secret = services.create_token(user=User.objects.get(email=ADMIN_EMAIL), name="x")[1]
    signed_in = signed_in_client(acme)

    assert signed_in.get("/v1/models").status_code == 401
    assert signed_in.get(f"/v1/models?api_key={secret}").status_code == 401
    wrong_method = HttpClient(HTTP_HOST=acme.domain.domain).get(
        "/v1/chat/completions", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["type"] == "invalid_request_error"


def test_the_admin_switches_the_api_off_and_lists_origins(acme):
    http = signed_in_client(acme)

    response = http.post("/settings/api/", {"cors_origins": "https://a.example\n"})
    bad = http.post("/settings/api/", {"enabled": "on", "cors_origins": "not a url"})

    assert response.status_code == 302
    assert bad.status_code == 200 and "is not an origin" in bad.content.decode()
    from api import selectors

    with schema_context(acme.client.schema_name):
        saved = selectors.get_api_settings()
        assert not saved.enabled and saved.cors_origins == ["https://a.example"]
