"""scripts/bootstrap.sh and an existing .env: a development .env made by an
earlier version gets the generated secrets it lacks (and keeps its own); a
production .env is never written to."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the scripts with an installed virtualenv (this one's Python)."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "devtools").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts")
    shutil.copy(ROOT / "devtools" / "lockfile.py", tmp_path / "devtools")
    for name in ("pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    # What bootstrap.sh stamps an install of this lock and pyproject with.
    digest = hashlib.sha1((ROOT / "requirements.lock").read_bytes()  # noqa: S324
                          + (ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    (tmp_path / ".venv" / f".installed-{digest}").touch()
    return tmp_path


def bootstrap(checkout: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(checkout)}
    return subprocess.run(["bash", "-c", "source scripts/bootstrap.sh"], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=120, check=True)


def settings_of(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if line and not line.startswith("#"))


def test_an_old_development_env_gets_the_missing_audit_key(checkout):
    env_file = checkout / ".env"
    env_file.write_text("# Generated on 2026-11-30.\nDJANGO_SECRET_KEY=old-secret\n"
                        "TUNEAIBOT_ENCRYPTION_KEYS=old-fernet\nTUNEAIBOT_DEV=true")

    result = bootstrap(checkout)

    assert "Adding TUNEAIBOT_AUDIT_KEYS to .env" in result.stdout
    values = settings_of(env_file)
    assert values["DJANGO_SECRET_KEY"] == "old-secret", "existing secrets are kept"
    assert values["TUNEAIBOT_ENCRYPTION_KEYS"] == "old-fernet"
    key_id, _, secret = values["TUNEAIBOT_AUDIT_KEYS"].partition(":")
    assert key_id == "k1" and len(secret) >= 32
    again = bootstrap(checkout)
    assert "Adding" not in again.stdout
    assert settings_of(env_file) == values, "a second run changes nothing"


def test_a_production_env_is_left_alone(checkout):
    env_file = checkout / ".env"
    env_file.write_text("DJANGO_SECRET_KEY=prod-secret\n")
    bootstrap(checkout)
    assert env_file.read_text() == "DJANGO_SECRET_KEY=prod-secret\n"


def test_a_first_run_writes_every_secret(checkout):
    bootstrap(checkout)
    values = settings_of(checkout / ".env")
    assert {"DJANGO_SECRET_KEY", "TUNEAIBOT_ENCRYPTION_KEYS", "TUNEAIBOT_AUDIT_KEYS",
            "TUNEAIBOT_DEV"} <= values.keys()
