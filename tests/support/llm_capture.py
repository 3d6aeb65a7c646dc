"""A capture server for the llm security tests: a small real HTTP(S) server that
records every request it receives (raw headers, including Authorization, and
body) and answers with whatever the test sets. It stands for a server a tenant
admin points the Base URL at, or an internal service that must stay unreached.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    sni: str | None = None

    def raw(self) -> str:
        """Everything that was received, as text, to search for a secret in."""
        heads = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        return f"{self.method} {self.path}\n{heads}\n\n{self.body.decode('utf-8', 'replace')}"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {
        "Content-Type": "application/json"})


class CaptureServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Captured] = []
        self.reply = Reply()
        self.replies: dict[str, Reply] = {}  # by path, before `reply`
        self._lock = threading.Lock()
        self._sni = threading.local()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                sni = getattr(self.connection, "sni", None)
                with server._lock:
                    server.requests.append(Captured(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                        body, sni))
                    reply = server.replies.get(self.path.split("?")[0], server.reply)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            def remember_sni(sock, name, _context):
                sock.sni = name

            tls.sni_callback = remember_sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.host, self.port = self._server.server_address[:2]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def answer(self, status: int, payload: object | bytes, *, path: str | None = None,
               headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        reply = Reply(status, body, headers or {"Content-Type": "application/json"})
        if path is None:
            self.reply = reply
        else:
            self.replies[path] = reply

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def capture_pair(*, allowed_host: str = "127.0.0.2", internal_host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> tuple[CaptureServer, CaptureServer]:
    """Two capture servers on the same port: one on an address the policy allows,
    one on an internal address (for DNS rebinding: same URL, other address)."""
    for _ in range(20):
        allowed = CaptureServer(host=allowed_host, tls=tls)
        try:
            internal = CaptureServer(host=internal_host, port=allowed.port)
        except OSError:
            allowed._server.server_close()
            continue
        return allowed, internal
    raise RuntimeError("no port free on both addresses")

