"""A TCP proxy in front of a real server, to cut it off as an outage would.

`down()` closes every connection and refuses new ones (the server is gone);
`up()` serves again. The server itself keeps running for the other tests.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import parse_qs, urlsplit, urlunsplit


class OutageProxy:
    def __init__(self, *, target_host: str | None, target_port: int | None,
                 target_unix: str | None = None) -> None:
        self.target = (target_host, target_port)
        self.target_unix = target_unix
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0

    @classmethod
    def for_postgres_url(cls, url: str) -> OutageProxy:
        parts = urlsplit(url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        if socket_dir:  # pgserver's Unix socket
            from pathlib import Path

            [socket_path] = Path(socket_dir).glob(".s.PGSQL.*[0-9]")
            return cls(target_host=None, target_port=None, target_unix=str(socket_path))
        return cls(target_host=parts.hostname or "127.0.0.1", target_port=parts.port or 5432)

    def proxied_postgres_url(self, url: str) -> str:
        parts = urlsplit(url)
        user = parts.username or "postgres"
        password = f":{parts.password}" if parts.password else ""
        return urlunsplit(parts._replace(netloc=f"{user}{password}@127.0.0.1:{self.port}",
                                         query=""))

    def up(self) -> OutageProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in [listener, *sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def _connect_target(self) -> socket.socket:
        if self.target_unix:
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target_unix)
        else:
            upstream = socket.create_connection(self.target)
        return upstream

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update({client, upstream})
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
