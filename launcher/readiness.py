"""Waiting for Keepwell to be ready: the gateway's `/api/health` answering with status `ok`."""

import time
from collections.abc import Callable
from typing import Any

import httpx


def health(url: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """The body of `/api/health`, or None while the gateway does not answer with one."""
    try:
        body = httpx.get(url, timeout=timeout).json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def wait_until_ok(
    url: str, timeout: float, alive: Callable[[], bool] = lambda: True, interval: float = 1.0
) -> dict[str, Any] | None:
    """Poll `url` (the health endpoint) until its body says `ok`; None when `timeout` passes or `alive()` is False.

    Degraded is not ready: at start-up every part is expected, and the banner promises a working system.
    """
    deadline = time.monotonic() + timeout
    while alive():
        body = health(url)
        if body is not None and body.get("status") == "ok":
            return body
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    return None
