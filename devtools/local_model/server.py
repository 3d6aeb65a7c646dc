"""The Python API: LocalModelServer runs the service on a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Self, Unpack

from devtools.local_model.behaviour import Behaviour, BehaviourOptions
from devtools.local_model.defaults import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_MODELS,
    DEFAULT_RECORD_LIMIT,
    LOCAL_API_KEY,
    JsonObject,
)
from devtools.local_model.service import ModelService

logger = logging.getLogger(__name__)

class LocalModelServer:
    """Runs the server on a background thread; use as a context manager.

    >>> with LocalModelServer(api_key="sk-test") as server:
    ...     client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Iterable[str] = DEFAULT_MODELS,
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
        record_limit: int = DEFAULT_RECORD_LIMIT,
        **behaviour: Unpack[BehaviourOptions],
    ) -> None:
        self.host = host
        self._requested_port = port
        self._service = ModelService(
            api_key=api_key,
            models=models,
            embedding_dimensions=embedding_dimensions,
            record_limit=record_limit,
            behaviour=Behaviour().updated(behaviour),
        )
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    # ---- lifecycle

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("This LocalModelServer is already running.")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="local-model-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("The local model server did not start within 10 seconds.")
        if self._startup_error is not None:
            self._thread = None
            raise RuntimeError(
                f"The local model server could not start on {self.host}:{self._requested_port}."
            ) from self._startup_error
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just closed
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._stop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # surfaced to start() when it happens at startup
            self._startup_error = exc
            if ready.is_set():
                logger.exception("The local model server stopped unexpectedly.")
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._service.start_server(self.host, self._requested_port)
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._service.shutdown(server)

    # ---- addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The local model server has not been started.")
        return self._port

    @property
    def url(self) -> str:
        """The root URL, where /_control and /_requests live."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the openai SDK takes as base_url."""
        return f"{self.url}/v1"

    @property
    def api_key(self) -> str:
        """The key a client should send: the configured one, or a placeholder."""
        return self._service.api_key or LOCAL_API_KEY

    # ---- behaviour and recording

    @property
    def behaviour(self) -> Behaviour:
        return self._service.behaviour

    def configure(self, **changes: Unpack[BehaviourOptions]) -> Behaviour:
        """Change behaviour from now on; unspecified settings keep their current value."""
        return self._service.configure(changes)

    def reset(self) -> Behaviour:
        """Back to the behaviour given to the constructor."""
        return self._service.configure({}, reset=True)

    def requests(self, path: str | None = None) -> list[JsonObject]:
        """Recorded /v1 requests, oldest first; optionally only those to one path."""
        recorded = self._service.recorded_requests()
        return [entry for entry in recorded if path is None or entry["path"] == path]

    def clear(self) -> None:
        self._service.clear_requests()
