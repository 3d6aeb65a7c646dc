"""Issue 21, finding 6: the development relaxations (TUNEAIBOT_DEV, which the
generated development .env sets, and the settings it turns on) must not
reach production unnoticed: `manage.py check --deploy` fails while any is
on, and every process that starts with one says so on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
RELAXATIONS = ("TUNEAIBOT_DEV", "SSO_ALLOW_HTTP_ISSUERS", "SSO_ALLOW_PRIVATE_ISSUERS",
               "MODEL_ENDPOINT_ALLOW_HTTP", "DJANGO_DEBUG")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A production-like environment (no relaxation, no .env), plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in RELAXATIONS}
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    env.update(TUNEAIBOT_ENV_FILE=str(empty_env_file), DATABASE_URL=settings.DATABASE_URL,
               REDIS_URL=settings.REDIS_URL,
               DJANGO_SECRET_KEY="a-production-like-secret-key-" + "x" * 40, **extra)
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("relaxation", ["TUNEAIBOT_DEV", "SSO_ALLOW_PRIVATE_ISSUERS",
                                        "SSO_ALLOW_HTTP_ISSUERS", "MODEL_ENDPOINT_ALLOW_HTTP"])
def test_check_deploy_fails_and_every_start_warns_while_a_relaxation_is_on(
        tmp_path, relaxation):
    result = _check_deploy(_env(tmp_path, **{relaxation: "true"}))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "tuneaibot.E001" in output and relaxation in output
    # Any process start (here: plain django.setup(), as uvicorn and Celery do).
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env=_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings", **{relaxation: "true"}),
        capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    assert "development relaxations are on" in started.stderr
    assert relaxation in started.stderr


def test_without_relaxations_the_check_passes_our_rule_and_nothing_is_printed(tmp_path):
    result = _check_deploy(_env(tmp_path))
    output = result.stdout + result.stderr
    assert "tuneaibot.E001" not in output
    assert "development relaxations are on" not in output
