"""What the benchmark scripts share: starting Django on the bench's own
embedded services, and a percentile."""

from __future__ import annotations

import os


def start_django(data_dir: str = ".data/bench") -> None:
    """Django set up on embedded PostgreSQL/Redis in `data_dir` (where no
    DATABASE_URL/REDIS_URL is set), never on a dev instance's data."""
    os.environ.setdefault("TUNEAIBOT_DATA_DIR", data_dir)
    os.environ.setdefault("TUNEAIBOT_DEV", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    from devtools.embedded import ensure_services

    ensure_services(stop_at_exit=True)  # a Redis it starts stops when the bench ends

    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank value at `pct` (0-100) of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]
