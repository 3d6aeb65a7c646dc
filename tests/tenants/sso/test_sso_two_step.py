"""People who sign in through the client's single sign-on are not asked for a
second factor (their provider checks them), even where everyone must use one
with a password; the same person's password sign-in still is."""

from __future__ import annotations

from django_tenants.utils import schema_context

from tenants.members.models import User
from tenants.models import Client
from tests.support.accounts import LOGIN_PATH, PASSWORD
from tests.support.sso import employee, path_of, provider_sign_in


def test_sso_sign_in_is_not_asked_for_a_second_factor(make_sso_client, host_client,
                                                      oidc_provider):
    sso = make_sso_client()
    Client.objects.filter(pk=sso.client.pk).update(second_factor=Client.SecondFactor.EVERYONE)
    login = employee(oidc_provider, groups=["staff", "chatbot-admins"])
    http = host_client(sso.domain)

    start = http.get("/sso/login/")
    back = provider_sign_in(start["Location"], login=login,
                            stop_at=f"http://{sso.domain}/sso/callback/")
    response = http.get(path_of(back))

    assert response.status_code == 302 and response["Location"] == "/"
    assert http.get("/").status_code == 200  # in the workspace, no second step
    with schema_context(sso.schema):
        user = User.objects.get(email=f"{login}@acme.example")
        assert user.role == "admin"
        # The same person with a password (break-glass style) is asked.
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    password = host_client(sso.domain).post(
        LOGIN_PATH, {"username": user.email, "password": PASSWORD})
    assert password.status_code == 302
    assert password["Location"] == "/accounts/two-step/"
