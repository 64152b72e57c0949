"""The one way tests wait for what happens in the background (the change feed, the projector)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = 20.0) -> T:
    """Poll ``probe`` until ``done`` holds of its value; fail loudly, naming ``what``, if it never does."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s; last seen: {value!r}"[:2000])
        time.sleep(0.1)
        value = probe()
    return value
