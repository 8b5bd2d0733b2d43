"""Rate limits per identity and per client address (the `limits` library): in memory for one process, in Redis
when KEEPWELL_REDIS_URL is set so every gateway replica counts together."""

import ipaddress
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from api.settings import Settings

logger = logging.getLogger(__name__)

# While the shared store is unreachable, counts go to this process's memory; Redis is tried again after this long.
_STORE_RETRY_AFTER_S = 30.0
# A slow or unreachable Redis must not hold a chat turn: each call gives up after this long.
_REDIS_TIMEOUT_S = 0.5
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int  # whole seconds until a new attempt can succeed; 0 when allowed


@dataclass(frozen=True)
class Check:
    """One limit to count a request against, and what the 429 says when it is full."""

    scope: str
    key: str
    limit: str  # the `limits` notation: "30/minute", "5/15 minutes"
    detail: str


class RateLimited(Exception):
    """Raised by callers when a limit is exceeded; the app answers 429 with `Retry-After`."""

    def __init__(self, retry_after_s: int, detail: str) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)
        self.detail = detail


class RateLimiter:
    """Counts hits per (scope, key) against a limit written like "30/minute".

    Args:
        storage_uri: "memory://" or a Redis URL ("redis://127.0.0.1:6379/0").
        enabled: when False every hit is allowed and nothing is counted.
        key_prefix: namespace of the keys in a shared store, so deployments (and tests) sharing one Redis
            never count together.
    """

    def __init__(self, storage_uri: str = "memory://", enabled: bool = True, key_prefix: str = "keepwell") -> None:
        self._storage = _storage(storage_uri, key_prefix)
        self._strategy = MovingWindowRateLimiter(self._storage)
        # Used while the shared store is down: limits keep holding per process instead of failing every request.
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._store_down_until = 0.0
        self.enabled = enabled

    def hit(self, scope: str, key: str, limit: str) -> Verdict:
        """Count one hit; refuse it (without counting) when the window is full."""
        if not self.enabled:
            return Verdict(True, 0)
        item: RateLimitItem = parse(limit)
        if self._call("hit", item, scope, key):
            return Verdict(True, 0)
        return Verdict(False, self._retry_after(item, scope, key))

    def enforce(self, checks: Sequence[Check]) -> None:
        """Count one hit against every check, or against none when any of them is full.

        A refused request costs nothing, so a client that keeps hammering one full limit does not use up the
        others (one customer at its identity limit leaves the address's budget to the other customers there).

        Raises:
            RateLimited: naming the first full check, with the seconds until it has room again.
        """
        if not self.enabled:
            return
        items = [(check, parse(check.limit)) for check in checks]
        for check, item in items:
            if not self._call("test", item, check.scope, check.key):
                raise RateLimited(self._retry_after(item, check.scope, check.key), check.detail)
        for check, item in items:
            # Another request may have taken the last place since the test: then this one is refused too.
            if not self._call("hit", item, check.scope, check.key):
                raise RateLimited(self._retry_after(item, check.scope, check.key), check.detail)

    def clear(self, scope: str, key: str, limit: str) -> None:
        """Forget the hits of one key (e.g. an account's failed sign-ins after a successful one)."""
        self._call("clear", parse(limit), scope, key)

    def reset(self) -> None:
        """Forget every count under this limiter's key prefix (tests; an operator clearing a lockout)."""
        self._storage.reset()
        self._fallback.storage.reset()

    def _retry_after(self, item: RateLimitItem, scope: str, key: str) -> int:
        reset_at, _remaining = self._call("get_window_stats", item, scope, key)
        return max(1, math.ceil(reset_at - time.time()))

    def _call(self, method: str, item: RateLimitItem, scope: str, key: str) -> Any:
        if time.monotonic() >= self._store_down_until:
            try:
                return getattr(self._strategy, method)(item, scope, key)
            except StorageError as error:
                self._store_down_until = time.monotonic() + _STORE_RETRY_AFTER_S
                logger.warning(
                    "rate-limit store unreachable (%s); counting in this process for %.0f s",
                    error.storage_error.__class__.__name__,
                    _STORE_RETRY_AFTER_S,
                )
        return getattr(self._fallback, method)(item, scope, key)


def _storage(uri: str, key_prefix: str) -> Storage:
    if not uri.startswith(_REDIS_SCHEMES):
        storage = storage_from_string(uri)
    else:
        storage = storage_from_string(
            uri,
            key_prefix=f"{key_prefix}:limits",
            wrap_exceptions=True,
            socket_timeout=_REDIS_TIMEOUT_S,
            socket_connect_timeout=_REDIS_TIMEOUT_S,
        )
    if not isinstance(storage, MovingWindowSupport):
        raise ValueError(f"rate-limit store {uri.split('://')[0]}:// cannot count a moving window")
    return storage


def limiter_for(settings: Settings) -> RateLimiter:
    """The app's limiter: Redis when KEEPWELL_REDIS_URL is set (shared by every replica), memory otherwise."""
    return RateLimiter(
        settings.redis_url or "memory://", enabled=settings.rate_limit_enabled, key_prefix=settings.redis_key_prefix
    )


def address_key(address: str) -> str:
    """The bucket a client address counts in: the IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6 addresses would let a client dodge the
    limit by changing its address; an IPv4 address mapped into IPv6 counts as that IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a Unix socket, "unknown"): counted as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def chat_identity_key(customer_id: str | None, conversation_id: str | None) -> str | None:
    """Whom a chat message counts against besides its address.

    The signed-in customer; else an anonymous visitor's conversation; a new anonymous conversation has no identity
    yet and counts on the address only.
    """
    if customer_id is not None:
        return f"customer:{customer_id}"
    if conversation_id is not None:
        return f"conversation:{conversation_id}"
    return None


def enforce_chat_limits(limiter: RateLimiter, settings: Settings, address: str, identity_key: str | None) -> None:
    """Count one chat message per identity (when known) and per client address.

    Raises:
        RateLimited: the customer or conversation, or the address, sent too many messages recently.
    """
    checks = []
    if identity_key is not None:
        checks.append(
            Check(
                "chat-identity",
                identity_key,
                settings.chat_rate_limit_per_identity,
                "Too many messages in a short time from this conversation; please wait a moment and try again.",
            )
        )
    checks.append(
        Check(
            "chat-address",
            address_key(address),
            settings.chat_rate_limit_per_address,
            "Too many messages in a short time from your network address; please wait a moment and try again.",
        )
    )
    limiter.enforce(checks)
