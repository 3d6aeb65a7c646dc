"""Deterministic bag-of-words unit vectors for /v1/embeddings."""

from __future__ import annotations

import hashlib
import math

from devtools.local_model.behaviour import ApiError
from devtools.local_model.replies import _WORD


def embed_text(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector built by signed feature hashing of lower-cased words.

    Texts that share words get a positive cosine similarity, so retrieval tests can
    rank chunks meaningfully, while the same text always gives the same vector.
    """
    vector = [0.0] * dimensions
    features = _WORD.findall(text.lower()) or [text]
    for feature in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=16).digest()
        for offset in range(0, 16, 4):  # four slots per word soften hash collisions
            slot = int.from_bytes(digest[offset : offset + 4], "little")
            sign = 1.0 if slot & 1 else -1.0
            vector[(slot >> 1) % dimensions] += sign
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:  # every slot cancelled out: fall back to a fixed direction
        vector[0], norm = 1.0, 1.0
    return [value / norm for value in vector]


def _embedding_inputs(raw: object) -> list[str]:
    # The API takes a string, a list of strings, a token-id list, or a list of those.
    if isinstance(raw, str):
        items: list[object] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(item, int) for item in raw):
        items = [raw]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        items = []
    texts: list[str] = []
    for item in items:
        if isinstance(item, str) and item:
            texts.append(item)
        elif isinstance(item, list) and item and all(isinstance(token, int) for token in item):
            texts.append(" ".join(str(token) for token in item))
        else:
            texts = []
            break
    if not texts:
        raise ApiError(
            400,
            "'input' must be a non-empty string, a list of non-empty strings, or token ids.",
            param="input",
        )
    return texts
