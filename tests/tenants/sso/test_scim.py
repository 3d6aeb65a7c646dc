"""SCIM 2.0 Users: the company's directory creates, updates and deactivates
members with its own bearer token; a deactivated member's sessions end."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.sso import services
from tests.support.accounts import PASSWORD, signed_in_client

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Directory:
    """The company's directory, calling one client's SCIM endpoint."""

    def __init__(self, http, token: str) -> None:
        self.http, self.token = http, token

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, **params):
        return self.http.get("/scim/v2/" + path, params, **self._headers())

    def send(self, method: str, path: str, body: dict):
        call = getattr(self.http, method)
        return call("/scim/v2/" + path, json.dumps(body),
                    content_type="application/scim+json", **self._headers())

    def delete(self, path: str):
        return self.http.delete("/scim/v2/" + path, **self._headers())


@pytest.fixture
def scim_client(make_client, host_client):
    def factory(prefix="scim", domains="acme.example"):
        result = make_client(prefix)
        with schema_context(result.client.schema_name):
            services.save_settings(values={"allowed_domains": domains})
            token = services.rotate_scim_token()
        return result, Directory(host_client(result.domain.domain), token)

    return factory


def new_user(email="jane@acme.example", **extra) -> dict:
    return {"schemas": [USER_SCHEMA], "userName": email, "externalId": "dir-42",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": email, "primary": True, "type": "work"}], "active": True,
            **extra}


def test_create_read_filter_update_and_deactivate(scim_client, host_client):
    result, directory = scim_client()
    created = directory.send("post", "Users", new_user())
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/scim+json"
    body = created.json()
    user_id = body["id"]
    assert body["userName"] == "jane@acme.example" and body["externalId"] == "dir-42"
    assert created["Location"].endswith(f"/scim/v2/Users/{user_id}")
    with schema_context(result.client.schema_name):
        user = User.objects.get(pk=user_id)
        assert (user.first_name, user.role, user.is_active) == ("Jane", "member", True)
        assert not user.has_usable_password()

    assert directory.get(f"Users/{user_id}").json()["name"]["familyName"] == "Doe"
    found = directory.get("Users", filter='userName eq "JANE@acme.example"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user_id
    assert directory.get("Users", filter='userName eq "nobody@acme.example"').json()[
        "totalResults"] == 0
    assert directory.send("post", "Users", new_user()).status_code == 409  # uniqueness

    replaced = directory.send("put", f"Users/{user_id}",
                              new_user(name={"givenName": "Janet", "familyName": "Doe"}))
    assert replaced.status_code == 200 and replaced.json()["name"]["givenName"] == "Janet"

    # The employee has a session when they leave.
    with schema_context(result.client.schema_name):
        user.set_password(PASSWORD)
        user.save()
    browser = signed_in_client(result, "jane@acme.example")
    assert browser.get("/").status_code == 200

    # Entra ID style: PATCH replace active with a string "False".
    patched = directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    assert patched.status_code == 200, patched.content
    assert patched.json()["active"] is False
    with schema_context(result.client.schema_name):
        user.refresh_from_db()
        assert not user.is_active
        from django.contrib.sessions.models import Session

        assert not [s for s in Session.objects.all()
                    if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    after = browser.get("/")
    assert after.status_code == 302 and "/accounts/login/" in after["Location"]

    # Okta style: PATCH without a path, to reactivate; then DELETE deactivates.
    assert directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"active": True}}]}).json()["active"] is True
    assert directory.delete(f"Users/{user_id}").status_code == 204
    assert directory.get(f"Users/{user_id}").json()["active"] is False


def test_bad_requests_are_scim_errors_not_500(scim_client):
    _result, directory = scim_client()
    missing = directory.send("post", "Users", {"schemas": [USER_SCHEMA]})
    assert missing.status_code == 400 and missing.json()["scimType"] == "invalidValue"
    other_domain = directory.send("post", "Users", new_user("x@elsewhere.example"))
    assert other_domain.status_code == 400
    assert "allowed domains" in other_domain.json()["detail"]
    not_json = directory.http.post("/scim/v2/Users", "{nope", content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {directory.token}")
    assert not_json.status_code == 400
    bad_filter = directory.get("Users", filter='userName eq')
    assert bad_filter.status_code == 400 and bad_filter.json()["scimType"] == "invalidFilter"
    assert directory.get("Users/999999").status_code == 404
    assert directory.get("Users/abc").status_code == 404
    bad_patch = directory.send("patch", "Users/1", {"schemas": [PATCH_SCHEMA],
                                                   "Operations": [{"op": "explode"}]})
    assert bad_patch.status_code == 400
    assert directory.get("Users", startIndex="x").status_code == 400
    config = directory.get("ServiceProviderConfig")
    assert config.status_code == 200 and config.json()["patch"]["supported"] is True
    types = directory.get("ResourceTypes").json()
    assert types["Resources"][0]["endpoint"] == "/Users"
    schema = directory.get("Schemas").json()["Resources"][0]
    assert "userName" in [a["name"] for a in schema["attributes"]]


def test_the_last_admin_cannot_be_deactivated(scim_client):
    result, directory = scim_client()
    with schema_context(result.client.schema_name):
        admin_id = User.objects.get(email="admin@example.com").pk
    response = directory.delete(f"Users/{admin_id}")
    assert response.status_code == 409
    assert "last active tenant admin" in response.json()["detail"]


def test_a_scim_token_works_only_for_its_own_client(scim_client, host_client):
    a, directory_a = scim_client("scima")
    b, directory_b = scim_client("scimb")
    with schema_context(b.client.schema_name):
        b_admin = User.objects.get(email="admin@example.com").pk
    # A's token on B's host: refused, whatever the call.
    a_on_b = Directory(host_client(b.domain.domain), directory_a.token)
    for response in (a_on_b.get("Users"), a_on_b.get(f"Users/{b_admin}"),
                     a_on_b.send("post", "Users", new_user()),
                     a_on_b.send("patch", f"Users/{b_admin}", {
                         "schemas": [PATCH_SCHEMA],
                         "Operations": [{"op": "replace", "path": "active", "value": False}]}),
                     a_on_b.delete(f"Users/{b_admin}")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    with schema_context(b.client.schema_name):
        assert User.objects.filter(is_active=True).count() == 1
        assert not User.objects.filter(email="jane@acme.example").exists()
    # No token, a wrong scheme, and the platform site: refused too.
    assert host_client(b.domain.domain).get("/scim/v2/Users").status_code == 401
    assert host_client(b.domain.domain).get(
        "/scim/v2/Users", HTTP_AUTHORIZATION=f"Basic {directory_b.token}").status_code == 401
    assert directory_b.get("Users").status_code == 200
    platform = host_client("localhost").get(
        "/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {directory_b.token}")
    assert platform.status_code == 404


def test_rotating_the_token_ends_the_old_one(scim_client):
    result, directory = scim_client()
    assert directory.get("Users").status_code == 200
    with schema_context(result.client.schema_name):
        new_token = services.rotate_scim_token()
    assert directory.get("Users").status_code == 401
    directory.token = new_token
    assert directory.get("Users").status_code == 200
    with schema_context(result.client.schema_name):
        services.revoke_scim_token()
    assert directory.get("Users").status_code == 401
