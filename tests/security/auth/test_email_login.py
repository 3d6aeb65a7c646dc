"""Logins by e-mail ignore case and surrounding spaces, wherever a person signs in."""

import pytest

from tests.security.auth.conftest import admin_login, platform_site, try_login, wait_for_mails
from tests.support.accounts import PASSWORD
from tests.support.site import Site


def test_client_login_ignores_case_and_spaces(make_client, web_server):
    result = make_client(admin_email="Ann.Admin@Example.com")
    site = Site(web_server.url(result.domain.domain))

    response = try_login(site, "  ANN.admin@EXAMPLE.COM ", PASSWORD)

    assert response.status_code == 302
    assert site.http.get("/").status_code == 200


def test_wrong_password_with_mixed_case_still_fails(make_client, web_server):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    response = try_login(site, "Admin@Example.com", "not the password")

    assert response.status_code == 200
    assert "do not match" in response.text


def test_platform_admin_login_ignores_case_and_spaces(staff, web_server):
    site = platform_site(web_server)

    response = admin_login(site, f" {staff.email.upper()} ", PASSWORD)

    assert response.status_code == 302
    assert site.http.get("/admin/").status_code == 200


@pytest.mark.worker
def test_password_reset_finds_the_account_whatever_the_case(make_client, web_server,
                                                             celery_worker, worker_mail_dir):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    response = site.http.post("/accounts/password/reset/", data={
        "email": " ADMIN@example.COM ", "csrfmiddlewaretoken": site.csrf()})

    assert response.status_code == 302
    assert wait_for_mails(worker_mail_dir, "admin@example.com", result.domain.domain)
