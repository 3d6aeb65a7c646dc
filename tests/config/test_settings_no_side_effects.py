"""Settings start nothing: a process without service URLs stops with a clear
error; only the development launcher starts embedded services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
                          "TUNEAIBOT_EPHEMERAL_SERVICES"}}
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    env.update(TUNEAIBOT_ENV_FILE=str(empty_env_file),
               TUNEAIBOT_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def _django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('set up')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_missing_urls_stop_with_a_clear_error_and_start_nothing(tmp_path):
    result = _django_setup(_env(tmp_path))

    assert result.returncode != 0
    assert "DATABASE_URL and REDIS_URL are not set" in result.stderr
    assert "scripts/start" in result.stderr
    assert not (tmp_path / "data").exists(), "nothing embedded was started"


def test_one_missing_url_is_named(tmp_path):
    result = _django_setup(_env(tmp_path, DATABASE_URL=settings.DATABASE_URL))

    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stderr
    assert "DATABASE_URL" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_with_urls_settings_load(tmp_path):
    result = _django_setup(_env(tmp_path, DATABASE_URL=settings.DATABASE_URL,
                                REDIS_URL=settings.REDIS_URL))

    assert result.returncode == 0, result.stderr
    assert "set up" in result.stdout


def test_the_dev_launcher_starts_what_is_missing_and_stops_it_after(tmp_path):
    env = _env(tmp_path, DATABASE_URL=settings.DATABASE_URL)
    show = "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"

    result = subprocess.run(
        [sys.executable, "-m", "devtools.embedded", "--", sys.executable, "-c", show],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    database_url, redis_url = result.stdout.split()
    assert database_url == settings.DATABASE_URL, "a URL that is set is used as it is"
    assert redis_url.startswith("unix://") and str(tmp_path / "data") in redis_url
    try:
        answered = redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except (redis.ConnectionError, OSError):
        answered = False
    assert not answered, "the Redis the launcher started is stopped when the command ends"


def test_setup_and_the_web_app_load_neither_spacy_nor_presidio_nor_devtools(tmp_path):
    # Every process runs django.setup(): web, each worker, each command. The
    # redaction engine (Presidio, spaCy) loads only where redaction runs (the
    # llm worker, on its first call), and the development tools never load
    # in production paths. The web process also loads both URLconfs
    # (config/asgi.py), so every view module is imported here too.
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.urls import get_resolver\n"
        "for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):\n"
        "    get_resolver(urlconf).url_patterns\n"
        "import config.celery, chat.tasks, compliance.tasks, tenants.tasks\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules}\n"
        "               & {'spacy', 'presidio_analyzer', 'presidio_anonymizer', 'thinc',\n"
        "                  'devtools'})\n"
        "print('loaded', heavy)\n"
    )
    env = _env(tmp_path, DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL,
               DJANGO_SETTINGS_MODULE="config.settings")

    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "loaded []" in result.stdout, result.stdout
