"""A real Chromium (Debian's, not Playwright's download) driven by Playwright."""

from __future__ import annotations

import os

import pytest

from tests.support.csp import CspWatch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser(worker_env):
    """One Chromium per module, not per session: while Playwright's sync API lives
    it marks its event loop as running in this thread, so any later test's
    asyncio.run() would fail and Django would refuse our ORM calls. The flag
    silences Django for this module only; `worker_env` is built first, so the real
    web server and workers never inherit it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test does it)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
            # Connections opened meanwhile are kept per async context (the loop
            # "runs"); close them while still visible, or the test database
            # cannot be dropped at the end.
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(browser):
    """A fresh profile (no cookies) per test; `page.js_errors` collects uncaught errors.
    Any Content-Security-Policy violation fails the test at teardown."""
    watch = CspWatch()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watch.watch(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.csp = watch
    yield page
    try:
        watch.check()
    finally:
        context.close()


@pytest.fixture
def open_page(browser):
    """More pages, each in its own fresh profile (for tests with several people):
    `open_page(timeout=30_000)`. Any Content-Security-Policy violation in any of
    them fails the test at teardown."""
    watch = CspWatch()

    def factory(*, timeout: float = 10_000):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        watch.watch(context)
        context.set_default_timeout(timeout)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        page.csp = watch
        return page

    yield factory
    try:
        watch.check()
    finally:
        for context in watch.contexts:
            context.close()
