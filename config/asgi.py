import asyncio
import collections
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

# Load both sites' views (and what they import) before the server accepts
# connections: /healthz answers before any URLconf is loaded, so without this
# the first real page of each process would pay for the imports.
for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
    get_resolver(urlconf).url_patterns  # noqa: B018 - loading is the point

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chat.stream_app import AnswerStreamApp  # noqa: E402


class FairPermits:
    """`limit` permits; who waits, waits in the line of its key (the site's
    host: one client) and the lines are served in turn, so a client's burst
    waits behind itself, not in front of another client's request."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self.lines: dict[bytes, collections.deque[asyncio.Future]] = {}
        self.turns: collections.deque[bytes] = collections.deque()  # keys with a line

    async def acquire(self, key: bytes, timeout: float) -> bool:
        """True with a permit; False after `timeout` seconds without one."""
        if self.free > 0 and not self.turns:
            self.free -= 1
            return True
        granted = asyncio.get_running_loop().create_future()
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = collections.deque()
            self.turns.append(key)
        line.append(granted)
        try:
            await asyncio.wait_for(asyncio.shield(granted), timeout)
            return True
        except (TimeoutError, asyncio.CancelledError):
            if granted.done():  # handed over just now: pass it on
                self.release()
            else:
                granted.cancel()
                line.remove(granted)
                if not line:
                    del self.lines[key]
                    self.turns.remove(key)
            if asyncio.current_task().cancelling():
                raise
            return False

    def release(self) -> None:
        while self.turns:
            key = self.turns.popleft()
            line = self.lines[key]
            granted = line.popleft()
            if line:
                self.turns.append(key)  # its next request waits for its next turn
            else:
                del self.lines[key]
            if not granted.done():
                granted.set_result(True)
                return
        self.free += 1


class RequestGate:
    """At most `limit` requests of this process run their Django part at once
    (and so hold at most that many database connections: the pool's size);
    the others wait their turn here, in the event loop, holding nothing, each
    client (site) in a line of its own, served in turn. A request leaves the
    gate when its response starts, so an answer stream's long wait on Redis
    happens outside it. Under a load the machine cannot keep up with,
    requests queue instead of failing on an empty pool; one that waited
    `wait_seconds` goes ahead anyway (the pool's own timeout then answers 503
    if the database is the problem)."""

    BYPASS = ("/healthz", "/static/")

    def __init__(self, app, *, limit: int, wait_seconds: float) -> None:
        self.app, self.limit, self.wait_seconds = app, limit, wait_seconds
        self._permits: FairPermits | None = None

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or self.limit <= 0
                or scope["path"].startswith(self.BYPASS)):
            return await self.app(scope, receive, send)
        if self._permits is None:  # created on the server's event loop
            self._permits = FairPermits(self.limit)
        permits = self._permits
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        held = await permits.acquire(host, self.wait_seconds)

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                permits.release()

        async def send_and_leave(message):
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            leave()


# Static files are served by the app itself so the one-command run needs no
# separate web server; production may put a CDN or proxy in front. Answer
# streams with a valid stream token are served before the gate and Django
# (chat/stream_app.py); everything else goes through both.
application = AnswerStreamApp(
    RequestGate(ASGIStaticFilesHandler(django_application),
                limit=settings.WEB_CONCURRENT_REQUESTS,
                wait_seconds=settings.WEB_QUEUE_SECONDS))
