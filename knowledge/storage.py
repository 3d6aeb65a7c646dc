"""Where a client's knowledge files are kept: MEDIA_ROOT/<schema>/knowledge.

Apart from services so that the models' delete receiver can find a file's
bytes without importing the services that import the models.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tenants.db import tenant_connection
from tenants.services import client_media_root

if TYPE_CHECKING:
    from knowledge.models import KnowledgeFile


def storage_dir() -> Path:
    """This client's knowledge folder: MEDIA_ROOT/<schema>/knowledge (never served)."""
    return client_media_root(tenant_connection().tenant) / "knowledge"


def stored_path(file: KnowledgeFile) -> Path:
    return storage_dir() / file.storage_name


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(path.suffix + ".part")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
