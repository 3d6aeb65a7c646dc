"""A minimal HTTP/1.1 reader and connection for the local model server (no framework,
so faults are exact)."""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from devtools.local_model.defaults import MAX_BODY_BYTES


class _HttpError(Exception):
    """The bytes received were not a request we can read; answered, then the socket closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _HttpRequest:
    method: str
    path: str
    query: str
    version: str
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> _HttpRequest | None:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _HttpError(400, "The request ended before its headers did.") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _HttpError(431, "The request headers are too large.") from exc

    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    try:
        method, target, version = request_line.split(" ")
    except ValueError as exc:
        raise _HttpError(400, "The request line is malformed.") from exc
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _HttpError(505, "Only HTTP/1.1 and HTTP/1.0 are supported.")

    headers: dict[str, str] = {}
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise _HttpError(400, "A request header is malformed.")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()

    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    path, _, query = target.partition("?")
    return _HttpRequest(method.upper(), unquote(path), query, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await _read_chunked_body(reader)
        length = int(headers.get("content-length", "0"))
    except (ValueError, asyncio.LimitOverrunError) as exc:
        raise _HttpError(400, "The request body framing is malformed.") from exc
    if length < 0:
        raise _HttpError(400, "Content-Length must not be negative.")
    if length > MAX_BODY_BYTES:
        raise _HttpError(413, "The request body is too large.")
    return await reader.readexactly(length) if length else b""


async def _read_chunked_body(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # skip trailers
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise _HttpError(413, "The request body is too large.")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class _Connection:
    """Writes responses on one client socket; knows whether a response has started."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.keep_alive = True
        self.response_started = False
        self.closed = False

    @property
    def peer_gone(self) -> bool:
        return self.closed or self.reader.at_eof() or self.writer.transport.is_closing()

    def _head(self, status: int, headers: Iterable[tuple[str, str]]) -> bytes:
        self.response_started = True
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"connection: {'keep-alive' if self.keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send_json(
        self, status: int, payload: object, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        head = self._head(
            status,
            [
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
                *headers,
            ],
        )
        self.writer.write(head + body)
        await self.writer.drain()

    async def start_stream(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        head = self._head(
            200,
            [
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
                ("transfer-encoding", "chunked"),
                *headers,
            ],
        )
        self.writer.write(head)
        await self.writer.drain()

    async def send_chunk(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n%b\r\n" % (len(data), data))
            await self.writer.drain()

    async def end_stream(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def close_mid_response(self) -> None:
        # close() (FIN after the buffer is flushed), not abort(): the client must receive
        # the tokens already written, then see the body end without its final chunk.
        self.closed = True
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def wait_until_peer_closes(self) -> None:
        # A hung request reads (and ignores) input so it notices the client giving up.
        self.keep_alive = False
        while await self.reader.read(65536):
            pass
        self.closed = True

    def close(self) -> None:
        self.closed = True
        self.writer.close()
