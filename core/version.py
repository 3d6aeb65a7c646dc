"""The running version (pyproject.toml's `version`), as the installed package
says, so /healthz, migrate_all and the logs name the release an instance runs.
CHANGELOG.md says what each version changed and how to upgrade to it."""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path


@cache
def version() -> str:
    # The checkout's pyproject.toml wins over the installed metadata, which an
    # editable install refreshes only when it is reinstalled.
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.exists():
        match = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    try:
        return metadata.version("tuneaibot")
    except metadata.PackageNotFoundError:
        return "unknown"
