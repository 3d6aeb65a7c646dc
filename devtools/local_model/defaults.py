"""Fixed values of the local model server: default models, limits, the local key."""

from __future__ import annotations

from typing import Any, TypeVar

DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")
DEFAULT_EMBEDDING_DIMENSIONS = 1536
DEFAULT_RECORD_LIMIT = 10_000
LOCAL_API_KEY = "sk-local-model-server"  # what clients send when the server checks no key

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
# Fixed so model listings are byte-for-byte deterministic between runs.
MODEL_CREATED_AT = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_local"
FILLER_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")

JsonObject = dict[str, Any]
_T = TypeVar("_T")
