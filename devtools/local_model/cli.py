"""Command line: python -m devtools.local_model --port 8099."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from devtools.local_model.behaviour import Behaviour
from devtools.local_model.defaults import DEFAULT_EMBEDDING_DIMENSIONS, DEFAULT_MODELS
from devtools.local_model.service import ModelService


async def _serve_forever(service: ModelService, host: str, port: int) -> None:
    server = await service.start_server(host, port)
    bound_port = server.sockets[0].getsockname()[1]
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM (e.g. a supervisor stopping us) ends as cleanly as Ctrl-C
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    print(f"Local model server on http://{host}:{bound_port}/v1 (Ctrl-C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await service.shutdown(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local_model",
        description="A local OpenAI-compatible model server for tests, benchmarks and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds per token")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds")
    parser.add_argument("--reply-tokens", type=int, default=None, help="tokens per reply")
    parser.add_argument("--reply-text", default=None, help="fixed reply text")
    parser.add_argument(
        "--models", default=",".join(DEFAULT_MODELS), help="comma-separated known model ids"
    )
    parser.add_argument("--embedding-dimensions", type=int, default=DEFAULT_EMBEDDING_DIMENSIONS)
    args = parser.parse_args(argv)

    try:
        behaviour = Behaviour().updated(
            {
                "token_delay": args.token_delay,
                "first_token_delay": args.first_token_delay,
                "reply_tokens": args.reply_tokens,
                "reply_text": args.reply_text,
            }
        )
    except ValueError as exc:
        parser.error(str(exc))
    service = ModelService(
        api_key=args.api_key,
        models=[model.strip() for model in args.models.split(",") if model.strip()],
        embedding_dimensions=args.embedding_dimensions,
        behaviour=behaviour,
    )
    try:
        asyncio.run(_serve_forever(service, args.host, args.port))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Local model server stopped.", flush=True)
    return 0
