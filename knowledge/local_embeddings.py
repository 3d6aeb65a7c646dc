"""Embeddings computed in this process, so documents never leave the workspace.

The model is WordLlama's "l2_supercat" static token embeddings (256
dimensions, MIT licence): its weights (16 MB, float16) and tokenizer ship
inside the `wordllama` wheel, so nothing is downloaded, ever; both are checked
by SHA-256 before they are read (knowledge.model_files). We read those two
files ourselves instead of calling `WordLlama.load()`, which looks for the
tokenizer in the wrong folder, falls back to downloading it, and configures
the root logger on import. A text's embedding is the mean of its tokens'
vectors, normalised to unit length (what WordLlama's own `embed` computes), so
cosine similarity is a dot product.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from knowledge import model_files

# Belt and braces: nothing here talks to a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL_NAME = "WordLlama l2_supercat (256 dimensions, runs locally)"
DIMENSIONS = 256
_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
MAX_TOKENS = 2048  # a chunk is at most a few hundred tokens; bound the work anyway
# SHA-256 of those files in wordllama 0.4.0.post1 (pyproject pins >=0.4,<0.5;
# a release that changes them fails here, by name, until this is updated).
FILES = {
    _WEIGHTS: "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    _TOKENIZER: "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}

_lock = threading.Lock()
_model: tuple[object, np.ndarray] | None = None


class LocalModelMissing(RuntimeError):
    """The wordllama package (which carries the weights) is not installed."""


class LocalModelMismatch(LocalModelMissing):
    """Its files are not the ones pinned in FILES (SHA-256)."""


def package_folder() -> Path:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelMissing("The 'wordllama' package is not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


def verify() -> None:
    """LocalModelMissing unless the package is installed and its two files
    pass their SHA-256 check (hashed once per process)."""
    folder = package_folder()
    try:
        for name, digest in FILES.items():
            model_files.verified(folder / name, digest)
    except model_files.ModelFileMismatch as exc:
        raise LocalModelMismatch(str(exc)) from exc
    except model_files.ModelFileMissing as exc:
        raise LocalModelMissing(str(exc)) from exc


def _load() -> tuple[object, np.ndarray]:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from safetensors import safe_open
                from tokenizers import Tokenizer

                verify()
                folder = package_folder()
                tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
                tokenizer.no_padding()
                tokenizer.enable_truncation(MAX_TOKENS)
                with safe_open(str(folder / _WEIGHTS), framework="np") as weights:
                    table = weights.get_tensor("embedding.weight").astype(np.float32)
                if table.shape[1] != DIMENSIONS:
                    raise LocalModelMissing(f"Unexpected local model size {table.shape}.")
                _model = (tokenizer, table)
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (a text without tokens
    gets a zero vector, which is similar to nothing)."""
    tokenizer, table = _load()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, encoding in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids = np.asarray(encoding.ids, dtype=np.int64)
        if ids.size == 0:
            continue
        vector = table[np.clip(ids, 0, table.shape[0] - 1)].mean(axis=0)
        length = float(np.linalg.norm(vector))
        if length > 0:
            out[row] = vector / length
    return out
