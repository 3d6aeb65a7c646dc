"""Links in e-mails use the configured site address, never the request's Host or port.

A real web server takes the requests (with a Host header naming another port)
and a real worker writes the e-mails.
"""

import pytest

from tenants.services import site_url
from tests.security.auth.conftest import link_in, mails_to, wait_for_mails
from tests.support.accounts import PASSWORD
from tests.support.site import Site

pytestmark = pytest.mark.worker


def with_host_port(site: Site, host: str, port: int) -> Site:
    site.http.headers["Host"] = f"{host}:{port}"
    return site


def test_password_reset_link_uses_the_configured_address_and_works(
        make_client, web_server, celery_worker, worker_mail_dir):
    result = make_client()
    host = result.domain.domain
    site = with_host_port(Site(web_server.url(host)), host, 6666)

    response = site.http.post("/accounts/password/reset/", data={
        "email": "Admin@Example.com", "csrfmiddlewaretoken": site.csrf()})
    assert response.status_code == 302

    link = link_in(wait_for_mails(worker_mail_dir, "admin@example.com", host)[0])
    assert link.startswith(site_url(host) + "accounts/password/reset/")
    assert ":6666" not in link

    # The link works: choose a new password, then sign in with it.
    browser = Site(web_server.url(host))
    form = browser.http.get(link.removeprefix(site_url(host)[:-1]))
    assert form.status_code == 302  # Django moves the token out of the URL
    set_password_url = form.headers["location"]
    assert browser.http.get(set_password_url).status_code == 200
    done = browser.http.post(set_password_url, data={
        "new_password1": "reset passphrase 2026", "new_password2": "reset passphrase 2026",
        "csrfmiddlewaretoken": browser.csrf()})
    assert done.status_code == 302
    Site(web_server.url(host)).login("admin@example.com", "reset passphrase 2026")


def test_password_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(
        make_client, web_server, celery_worker, worker_mail_dir):
    result = make_client()
    site = Site(web_server.url(result.domain.domain))

    known = site.http.post("/accounts/password/reset/", data={
        "email": "admin@example.com", "csrfmiddlewaretoken": site.csrf()})
    unknown = site.http.post("/accounts/password/reset/", data={
        "email": "nobody@example.com", "csrfmiddlewaretoken": site.csrf()})

    assert (known.status_code, known.headers["location"]) == (
        unknown.status_code, unknown.headers["location"])
    wait_for_mails(worker_mail_dir, "admin@example.com", result.domain.domain)
    assert mails_to(worker_mail_dir, "nobody@example.com") == []


def test_invitation_link_uses_the_configured_address(make_client, web_server, celery_worker,
                                                     worker_mail_dir):
    result = make_client()
    host = result.domain.domain
    admin = with_host_port(Site(web_server.url(host)), host, 6666)
    admin.login("admin@example.com", PASSWORD)

    response = admin.post("/accounts/members/", {"email": "newcomer@example.com",
                                                 "role": "member"})
    assert response.status_code == 302

    link = link_in(wait_for_mails(worker_mail_dir, "newcomer@example.com", host)[0])
    assert link.startswith(site_url(host) + "accounts/password/reset/")
    assert ":6666" not in link
