"""Polling until something happens (a timeout, never a measured bound)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout: float, what: str, every: float = 0.3,
               detail: Callable[[], str] | None = None) -> T:
    """predicate()'s first truthy value; AssertionError naming `what` (and
    `detail()`, e.g. the end of a log) if none comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    message = f"{what} did not happen within {timeout} s"
    raise AssertionError(f"{message}:\n{detail()}" if detail else message)
