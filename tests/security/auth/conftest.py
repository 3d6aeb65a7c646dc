"""Fixtures of the auth area: platform staff, signing in over real HTTP, mail files."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from django.conf import settings

from tests.support.site import Site


def admin_login(site: Site, email: str, password: str):
    """POST the platform's Django admin login form; returns the response."""
    site.http.get("/admin/login/")
    return site.http.post("/admin/login/?next=/admin/", data={
        "username": email, "password": password, "next": "/admin/",
        "csrfmiddlewaretoken": site.http.cookies["csrftoken"]})


def platform_site(web_server) -> Site:
    return Site(web_server.url(settings.BASE_DOMAIN))


def try_login(site: Site, email: str, password: str, *, forwarded_for: str | None = None):
    """POST the client site's login form once; returns the response."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return site.http.post("/accounts/login/", headers=headers, data={
        "username": email, "password": password, "csrfmiddlewaretoken": site.csrf()})


def mails_to(mail_dir: Path, recipient: str) -> list[Message]:
    """The e-mails the web server wrote (filemail backend) to one address, oldest first."""
    found = []
    for path in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                message = message_from_bytes(raw.strip())
                if message["To"] == recipient:
                    found.append(message)
    return found


def link_in(message: Message) -> str:
    body = message.get_payload(decode=True).decode()
    return re.search(r"https?://\S+/accounts/\S+", body).group(0)


def wait_for_mails(mail_dir, recipient: str, host: str, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mails_to(mail_dir, recipient) if host in link_in(m)]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {recipient} with a link to {host} within {timeout}s")
