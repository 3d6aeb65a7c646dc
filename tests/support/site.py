"""A person using a client's site over real HTTP (httpx), as a browser would."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

END_EVENTS = {"done", "failed", "cancelled"}


@dataclass
class Event:
    id: str | None
    event: str
    data: dict


class Site:
    def __init__(self, base_url: str) -> None:
        # Connect to loopback and name the client's host in the Host header, as a
        # browser does for *.localhost (the system resolver may not know them).
        url = httpx.URL(base_url)
        self.http = httpx.Client(
            base_url=url.copy_with(host="127.0.0.1"), follow_redirects=False, timeout=30,
            headers={"Host": f"{url.host}:{url.port}" if url.port else url.host},
        )

    def csrf(self) -> str:
        if "csrftoken" not in self.http.cookies:
            self.http.get("/accounts/login/")
        return self.http.cookies["csrftoken"]

    def login(self, email: str, password: str, *, second_step: bool = False) -> Site:
        """Sign in with the password; `second_step`: the client may then ask
        for a second factor (see `next_step`), else that fails the test."""
        response = self.http.post("/accounts/login/", data={
            "username": email, "password": password, "csrfmiddlewaretoken": self.csrf()})
        assert response.status_code == 302, f"login failed for {email}"
        self.next_step = response.headers["location"]
        assert second_step or "/accounts/two-step/" not in self.next_step, (
            f"{email} is asked for a second factor")
        return self

    def set_up_authenticator_app(self) -> str:
        """The second step a client's policy asks for after the password: set
        up an authenticator app as a person does (the secret from the page,
        a real TOTP code); returns the secret."""
        import re

        import pyotp

        path = "/accounts/two-step/authenticator-app/"
        page = self.http.get(path).text
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
        response = self.http.post(path, data={"code": pyotp.TOTP(secret).now(),
                                              "csrfmiddlewaretoken": self.csrf()})
        assert response.status_code == 302, response.status_code
        return secret

    def confirm_with_app(self, secret: str) -> None:
        """The second step with an app set up earlier: a fresh code (the next
        period's, as a code is accepted once)."""
        import time

        import pyotp

        app = pyotp.TOTP(secret)
        response = self.http.post("/accounts/two-step/verify/", data={
            "code": app.at(time.time() + app.interval), "csrfmiddlewaretoken": self.csrf()})
        assert response.status_code == 302, response.status_code

    def post(self, path: str, data: dict | None = None) -> httpx.Response:
        return self.http.post(path, data=data or {}, headers={
            "X-CSRFToken": self.csrf(), "Accept": "application/json"})

    def send(self, text: str, conversation_id: int | None = None) -> httpx.Response:
        path = f"/c/{conversation_id}/send/" if conversation_id else "/send/"
        return self.post(path, {"text": text})

    def ask(self, text: str, conversation_id: int | None = None) -> dict:
        response = self.send(text, conversation_id)
        assert response.status_code == 201, response.text
        return response.json()

    def events(self, stream_url: str, *, last_event_id: str | None = None,
               limit: int | None = None, timeout: float = 30) -> list[Event]:
        """Read SSE events until the answer ends (or `limit` deltas arrived)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        events: list[Event] = []
        deltas = 0
        current: dict = {}
        with self.http.stream("GET", stream_url, headers=headers, timeout=timeout) as response:
            assert response.status_code == 200, response.status_code
            for line in response.iter_lines():
                if not line:
                    if "event" in current:
                        event = Event(current.get("id"), current["event"],
                                      json.loads(current.get("data", "{}")))
                        events.append(event)
                        deltas += event.event == "delta"
                        if event.event in END_EVENTS or (limit and deltas >= limit):
                            return events
                    current = {}
                    continue
                if line.startswith(":"):
                    continue
                field, _, value = line.partition(": ")
                current[field] = value
        return events


def text_of(events: list[Event]) -> str:
    """What a browser shows: deltas appended, cleared by a reset."""
    text = ""
    for event in events:
        if event.event == "reset":
            text = ""
        elif event.event == "delta":
            text += event.data["text"]
    return text
