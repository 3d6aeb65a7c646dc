"""Tenant admins invite and deactivate members; people manage their password."""

from django_tenants.utils import schema_context

from tenants.members.models import User
from tests.support.accounts import LOGIN_PATH, PASSWORD, signed_in_client
from tests.support.factories import MemberFactory


def test_members_page_is_for_tenant_admins_only(make_client, host_client):
    result = make_client()
    with schema_context(result.client.schema_name):
        MemberFactory(email="worker@example.com")
    member = signed_in_client(result, "worker@example.com")
    assert member.get("/accounts/members/").status_code == 403
    assert signed_in_client(result).get("/accounts/members/").status_code == 200


def test_invite_creates_member_without_password(make_client, host_client):
    result = make_client()
    admin = signed_in_client(result)

    response = admin.post("/accounts/members/", {"email": "New@Example.com", "role": "member"})

    assert response.status_code == 302
    with schema_context(result.client.schema_name):
        invited = User.objects.get(email="new@example.com")
        assert not invited.has_usable_password()
        assert invited.role == User.Role.MEMBER


def test_invite_twice_is_a_form_error(make_client, host_client):
    result = make_client()
    admin = signed_in_client(result)
    admin.post("/accounts/members/", {"email": "dup@example.com", "role": "member"})
    response = admin.post("/accounts/members/", {"email": "dup@example.com", "role": "member"})
    assert response.status_code == 200
    assert "already a member" in response.content.decode()


def test_deactivated_member_is_signed_out_and_cannot_sign_in(make_client, host_client):
    result = make_client()
    with schema_context(result.client.schema_name):
        worker = MemberFactory(email="worker@example.com")
    member = signed_in_client(result, "worker@example.com")
    assert member.get("/").status_code == 200

    admin = signed_in_client(result)
    admin.post(f"/accounts/members/{worker.pk}/active/", {"active": "0"})

    assert member.get("/").status_code == 302  # the live session no longer works
    again = host_client(result.domain.domain).post(
        LOGIN_PATH, {"username": "worker@example.com", "password": PASSWORD})
    assert again.status_code == 200


def test_last_admin_cannot_deactivate_themselves(make_client, host_client):
    result = make_client()
    admin = signed_in_client(result)
    with schema_context(result.client.schema_name):
        me = User.objects.get(email="admin@example.com")
    response = admin.post(f"/accounts/members/{me.pk}/active/", {"active": "0"}, follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    with schema_context(result.client.schema_name):
        assert User.objects.get(pk=me.pk).is_active


def test_password_change(make_client, host_client):
    result = make_client()
    browser = signed_in_client(result)
    response = browser.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "a brand new passphrase",
         "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    signed_in_client(result, password="a brand new passphrase")


# Password reset e-mails (sent by a worker, linking to the configured site address)
# are tested through the web server in tests/security/auth/test_email_links.py.
