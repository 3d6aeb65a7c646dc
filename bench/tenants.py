"""Provisioning speed and routing cost.

    python bench/tenants.py [--clients 200] [--migrated 20] [--requests 300]

Creates N clients by cloning the template schema and, for comparison in the
same run, M clients by running every migration; then measures a tenant page
(full middleware stack, host routing included) with 1 client and with N + M.
Runs against its own embedded database (.data/bench) unless DATABASE_URL is
set, and deletes every client it made.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import percentile, start_django  # noqa: E402

start_django()  # embedded PostgreSQL/Redis where no URL is set

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tenants import services  # noqa: E402
from tenants.models import Client  # noqa: E402

PREFIX = "bench-"


def provision(count: int, label: str) -> list[float]:
    timings = []
    for i in range(count):
        start = time.perf_counter()
        services.create_client(
            name=f"Bench {label} {i}", slug=f"{PREFIX}{label}-{i}", admin_email="a@bench.example",
            admin_password="bench-password-123",
        )
        timings.append(time.perf_counter() - start)
        connection.set_schema_to_public()
    return timings


def page_latency(host: str, requests: int) -> list[float]:
    browser = HttpClient(HTTP_HOST=host)
    browser.get("/accounts/login/")  # warm up
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = browser.get("/accounts/login/")
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return timings


def cleanup() -> None:
    connection.set_schema_to_public()
    for client in Client.objects.filter(slug__startswith=PREFIX):
        services.delete_client(client=client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--migrated", type=int, default=20,
                        help="clients provisioned by plain migration, for comparison")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    setup_test_environment()
    services.migrate_all()
    cleanup()
    try:
        first = provision(1, "first")[0]
        host = f"{PREFIX}first-0.{settings.BASE_DOMAIN}"
        page_one = page_latency(host, args.requests)

        cloned = [first, *provision(args.clients - 1, "clone")]
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
            migrated = provision(args.migrated, "migrate")
        page_many = page_latency(host, args.requests)
        total = Client.objects.filter(slug__startswith=PREFIX).count()
    finally:
        cleanup()

    rows = [
        ("provision by cloning (s/client)", len(cloned), cloned),
        ("provision by migrating (s/client)", len(migrated), migrated),
        ("tenant page, 1 client (ms)", len(page_one), [t * 1000 for t in page_one]),
        (f"tenant page, {total} clients (ms)", len(page_many), [t * 1000 for t in page_many]),
    ]
    print(f"\n{'measure':<38} {'n':>5} {'median':>9} {'p99':>9}")
    for label, n, values in rows:
        print(f"{label:<38} {n:>5} {statistics.median(values):>9.3f} "
              f"{percentile(values, 99):>9.3f}")
    speedup = statistics.median(migrated) / statistics.median(cloned)
    routing = statistics.median(page_many) / statistics.median(page_one)
    print(f"\ncloning is {speedup:.1f}x faster than migrating (median)")
    print(f"page median with {total} clients / with 1 client: {routing:.2f}x")


if __name__ == "__main__":
    main()
