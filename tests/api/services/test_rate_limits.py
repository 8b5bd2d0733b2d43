"""api/services/rate_limits.py: counting, refusals that cost nothing, address buckets, Redis as the shared store."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from api.services.rate_limits import (
    Check,
    RateLimited,
    RateLimiter,
    address_key,
    chat_identity_key,
    enforce_chat_limits,
    limiter_for,
)
from api.settings import Settings


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter("memory://")


@pytest.fixture
def shared(redis_store: tuple[str, str]) -> Iterator[tuple[RateLimiter, RateLimiter]]:
    """Two limiters on the same Redis and prefix, as two gateway replicas of one deployment have."""
    url, prefix = redis_store
    yield RateLimiter(url, key_prefix=prefix), RateLimiter(url, key_prefix=prefix)


def _limits_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "demo_mode": True,
        "chat_rate_limit_per_identity": "2/minute",
        "chat_rate_limit_per_address": "3/minute",
    }
    return Settings(**{**values, **overrides})


def test_hits_are_counted_and_the_refusal_says_when_to_retry(limiter: RateLimiter) -> None:
    verdicts = [limiter.hit("chat", "key", "2/minute") for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[0].retry_after_s == 0
    assert 1 <= verdicts[2].retry_after_s <= 60


def test_keys_and_scopes_count_apart(limiter: RateLimiter) -> None:
    assert limiter.hit("chat", "a", "1/minute").allowed
    assert limiter.hit("chat", "b", "1/minute").allowed
    assert limiter.hit("login", "a", "1/minute").allowed
    assert not limiter.hit("chat", "a", "1/minute").allowed


def test_clear_forgets_one_key(limiter: RateLimiter) -> None:
    limiter.hit("login", "ana", "1/minute")
    limiter.hit("login", "bo", "1/minute")
    limiter.clear("login", "ana", "1/minute")
    assert limiter.hit("login", "ana", "1/minute").allowed
    assert not limiter.hit("login", "bo", "1/minute").allowed


def test_a_disabled_limiter_never_refuses() -> None:
    limiter = RateLimiter("memory://", enabled=False)
    assert all(limiter.hit("chat", "key", "1/minute").allowed for _ in range(5))
    limiter.enforce([Check("chat", "key", "1/minute", "full")] * 5)


def test_enforce_counts_every_check_or_none(limiter: RateLimiter) -> None:
    identity = Check("identity", "customer:a", "1/minute", "identity full")
    address = Check("address", "203.0.113.7", "3/minute", "address full")
    limiter.enforce([identity, address])
    with pytest.raises(RateLimited) as refused:
        limiter.enforce([identity, address])
    assert refused.value.detail == "identity full"
    assert 1 <= refused.value.retry_after_s <= 60
    # The refused message cost the address nothing: two more customers there still fit.
    limiter.enforce([Check("identity", "customer:b", "1/minute", ""), address])
    limiter.enforce([Check("identity", "customer:c", "1/minute", ""), address])
    with pytest.raises(RateLimited, match="address full"):
        limiter.enforce([Check("identity", "customer:d", "1/minute", ""), address])


def test_chat_limits_count_per_identity_and_per_address(limiter: RateLimiter, tmp_path: Path) -> None:
    settings = _limits_settings(tmp_path)
    enforce_chat_limits(limiter, settings, "203.0.113.7", "customer:a")
    enforce_chat_limits(limiter, settings, "203.0.113.7", "customer:a")
    with pytest.raises(RateLimited, match="this conversation"):
        enforce_chat_limits(limiter, settings, "203.0.113.7", "customer:a")
    enforce_chat_limits(limiter, settings, "203.0.113.7", None)  # a new anonymous conversation: address only
    with pytest.raises(RateLimited, match="network address"):
        enforce_chat_limits(limiter, settings, "203.0.113.7", "customer:b")
    enforce_chat_limits(limiter, settings, "198.51.100.4", "customer:b")


def test_chat_identity_is_the_customer_else_the_anonymous_conversation() -> None:
    assert chat_identity_key("acme-42", "c" * 32) == "customer:acme-42"
    assert chat_identity_key(None, "c" * 32) == "conversation:" + "c" * 32
    assert chat_identity_key(None, None) is None


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # the same subscriber's /64: one bucket
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
    ],
)
def test_address_buckets(address: str, bucket: str) -> None:
    assert address_key(address) == bucket


def test_limiter_for_settings_uses_memory_without_redis(tmp_path: Path) -> None:
    limiter = limiter_for(_limits_settings(tmp_path, rate_limit_enabled=False))
    assert not limiter.enabled
    assert limiter.hit("chat", "key", "1/minute").allowed


def test_replicas_on_one_redis_count_together(shared: tuple[RateLimiter, RateLimiter]) -> None:
    first, second = shared
    assert first.hit("chat", "203.0.113.7", "3/minute").allowed
    assert second.hit("chat", "203.0.113.7", "3/minute").allowed
    assert first.hit("chat", "203.0.113.7", "3/minute").allowed
    refused = second.hit("chat", "203.0.113.7", "3/minute")
    assert not refused.allowed
    assert 1 <= refused.retry_after_s <= 60


def test_deployments_on_one_redis_count_apart(redis_store: tuple[str, str]) -> None:
    url, prefix = redis_store
    ours, theirs = RateLimiter(url, key_prefix=prefix), RateLimiter(url, key_prefix=f"{prefix}:other")
    assert ours.hit("chat", "key", "1/minute").allowed
    assert theirs.hit("chat", "key", "1/minute").allowed
    assert not ours.hit("chat", "key", "1/minute").allowed


def test_keys_live_under_the_prefix_and_reset_removes_them(redis_store: tuple[str, str]) -> None:
    url, prefix = redis_store
    limiter = RateLimiter(url, key_prefix=prefix)
    limiter.hit("chat", "key", "5/minute")
    client = redis.Redis.from_url(url)
    try:
        assert list(client.scan_iter(match=f"{prefix}:limits:*"))
        limiter.reset()
        assert not list(client.scan_iter(match=f"{prefix}:*"))
    finally:
        client.close()


def test_an_unreachable_redis_falls_back_to_counting_in_this_process(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter("redis://127.0.0.1:1/0", key_prefix="kw_test_down")  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="api.services.rate_limits"):
        verdicts = [limiter.hit("chat", "key", "2/minute") for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert "rate-limit store unreachable" in caplog.text
    assert caplog.text.count("unreachable") == 1, "one warning, then Redis is left alone for a while"
