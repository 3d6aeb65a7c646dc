"""A local OpenAI-compatible model server for tests, benchmarks and the demo run.

Nothing in this project mocks the ``openai`` SDK: the real SDK talks HTTP to this
server instead (``base_url=server.base_url``). It is a small hand-rolled asyncio
HTTP/1.1 server rather than a framework app so that faults are exact (a stream
cut mid-way without ``[DONE]``, a request that is never answered) and so that
hundreds of concurrent streams cost little CPU. It must not import Django, so
tests and benchmarks can start it on its own.

Endpoints::

    POST /v1/chat/completions   deterministic reply, JSON or SSE stream
    POST /v1/embeddings         deterministic bag-of-words unit vectors
    GET  /v1/models[/{id}]      a configurable set of models; any ``ft:`` id is known
    GET|POST /_control          read or change the behaviour below (JSON)
    GET|DELETE /_requests       every /v1 request received, or clear them
    GET  /_health               readiness probe

Behaviour (constructor keywords, ``configure()``, or ``POST /_control``):
``reply_text``, ``reply_tokens``, ``token_delay``, ``first_token_delay``,
``fail_next``, ``fail_status``, ``retry_after``, ``truncate_after``,
``stall_after``, ``hang``, ``cut_next`` (the next N chat streams are cut
before their first token); ``{"reset": true}`` restores the constructor's.

A chat request whose last user message holds directives steers only that
request: ``[[reply: exact text]]``, ``[[tokens: 20]]``, ``[[fail: 429]]``,
``[[hang]]``, ``[[truncate: 3]]``, ``[[stall: 3]]``, ``[[token-delay: 0.01]]``,
``[[first-token-delay: 0.5]]``, ``[[malformed: 3]]`` (after 3 tokens, a chunk that is
not JSON). A slow drip is ``[[token-delay: 25]]`` (one chunk every 25 s).
Directives are removed from the echoed text.

Modules: defaults (fixed values), behaviour (behaviour, fault modes, API
errors), http11 (the HTTP/1.1 reader), replies (directives, tokens, reply
plans), embeddings, service (request handling), server (LocalModelServer, the
Python API), cli (``main``).

Run in the foreground: ``python -m devtools.local_model --port 8099``.
"""

from devtools.local_model.behaviour import ApiError, Behaviour, BehaviourOptions
from devtools.local_model.cli import main
from devtools.local_model.defaults import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_MODELS,
    LOCAL_API_KEY,
)
from devtools.local_model.embeddings import embed_text
from devtools.local_model.replies import split_tokens
from devtools.local_model.server import LocalModelServer
from devtools.local_model.service import ModelService

__all__ = [
    "DEFAULT_EMBEDDING_DIMENSIONS", "DEFAULT_MODELS", "LOCAL_API_KEY", "ApiError", "Behaviour",
    "BehaviourOptions", "LocalModelServer", "ModelService", "embed_text", "main", "split_tokens",
]
