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
    user_id = directory.send("post", "Users", new_user()).json()["id"]
    bad_patch = directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA], "Operations": [{"op": "explode"}]})
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
    admin_id = directory.send("post", "Users", new_user("boss@acme.example")).json()["id"]
    with schema_context(result.client.schema_name):
        # The directory's member became the only active tenant admin.
        User.objects.filter(pk=admin_id).update(role=User.Role.ADMIN)
        User.objects.filter(email="admin@example.com").update(is_active=False)
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


def test_bad_ids_and_values_are_4xx_never_500_or_503(scim_client):
    """Issue 21, finding 5: a 4,301-digit id (more than int() reads) and a
    superscript digit are a 404; a userName or externalId longer than the
    column is a 400 (a DataError is not an outage)."""
    result, directory = scim_client()
    for user_id in ("9" * 4301, "1" * 20, "²", "0"):
        assert directory.get(f"Users/{user_id}").status_code == 404, user_id
    long_name = "a" * 290 + "@acme.example"
    too_long = directory.send("post", "Users", new_user(long_name))
    assert too_long.status_code == 400, too_long.content
    assert too_long.json()["scimType"] == "invalidValue"
    long_external = directory.send("post", "Users", new_user(externalId="x" * 300))
    assert long_external.status_code == 400, long_external.content
    user_id = directory.send("post", "Users", new_user()).json()["id"]
    renamed = directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "userName", "value": long_name}]})
    assert renamed.status_code == 400, renamed.content
    with schema_context(result.client.schema_name):
        assert not User.objects.filter(email=long_name).exists()


def test_the_directory_cannot_reach_local_admins_or_unlinked_members(scim_client):
    """Issue 21, finding 2: the SCIM token may change only members it created
    or that are linked to the directory; the local tenant admin (who signs in
    with a password) and the break-glass admin do not exist for it."""
    from tenants.sso.models import ExternalIdentity

    result, directory = scim_client()
    with schema_context(result.client.schema_name):
        admin = User.objects.get(email="admin@example.com")
        local = User.objects.create_user("local@acme.example", PASSWORD)
    takeover = {"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": "userName", "value": "it@acme.example"}]}
    for target in (admin, local):
        assert directory.get(f"Users/{target.pk}").status_code == 404
        assert directory.send("patch", f"Users/{target.pk}", takeover).status_code == 404
        assert directory.send("put", f"Users/{target.pk}",
                              new_user("it@acme.example")).status_code == 404
        assert directory.delete(f"Users/{target.pk}").status_code == 404
    listed = [r["userName"] for r in directory.get("Users").json().get("Resources", [])]
    assert "admin@example.com" not in listed and "local@acme.example" not in listed
    with schema_context(result.client.schema_name):
        admin.refresh_from_db()
        local.refresh_from_db()
        assert (admin.email, admin.is_active) == ("admin@example.com", True)
        assert (local.email, local.is_active) == ("local@acme.example", True)
        assert admin.check_password(PASSWORD)

    # Once linked (the member signed in through the provider), the directory
    # manages them; the configured break-glass admin stays out of reach even
    # when linked, and so does a linked tenant admin who has a password.
    with schema_context(result.client.schema_name):
        ExternalIdentity.objects.create(user=local, issuer="https://id.example", subject="l1")
        ExternalIdentity.objects.create(user=admin, issuer="https://id.example", subject="a1")
        breakglass = User.objects.create_user("bg@acme.example", None, role=User.Role.ADMIN)
        ExternalIdentity.objects.create(user=breakglass, issuer="https://id.example",
                                        subject="b1")
        services.save_settings(values={"break_glass_user": breakglass})
    assert directory.get(f"Users/{local.pk}").status_code == 200
    assert directory.get(f"Users/{admin.pk}").status_code == 404
    assert directory.get(f"Users/{breakglass.pk}").status_code == 404
    assert directory.send("patch", f"Users/{breakglass.pk}", takeover).status_code == 404


def test_a_changed_email_ends_the_members_sessions(scim_client):
    """Issue 21, finding 2: sessions opened under the old address end when the
    directory changes it."""
    from django.contrib.sessions.models import Session

    result, directory = scim_client()
    user_id = directory.send("post", "Users", new_user()).json()["id"]
    with schema_context(result.client.schema_name):
        user = User.objects.get(pk=user_id)
        user.set_password(PASSWORD)
        user.save()
    browser = signed_in_client(result, "jane@acme.example")
    assert browser.get("/").status_code == 200
    # A change that keeps the address keeps the session.
    same = directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Janet"}]})
    assert same.status_code == 200, same.content
    assert browser.get("/").status_code == 200
    renamed = directory.send("patch", f"Users/{user_id}", {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "userName", "value": "janet@acme.example"}]})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["userName"] == "janet@acme.example"
    with schema_context(result.client.schema_name):
        assert not [s for s in Session.objects.all()
                    if s.get_decoded().get("_auth_user_id") == str(user_id)]
    after = browser.get("/")
    assert after.status_code == 302 and "/accounts/login/" in after["Location"]
