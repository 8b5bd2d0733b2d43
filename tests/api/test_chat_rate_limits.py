"""Rate limits on POST /api/chat: per identity and per client address, trusted proxies, Redis shared by replicas."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api.deps import client_address
from api.main import create_app
from api.settings import Settings
from keepwell import identity
from keepwell.bootstrap import prepare
from tests.api.conftest import IDENTITY_SECRET
from tests.api.fakes import FakeRasa

PROXY = "10.0.0.2"
ATTACKER = "203.0.113.66"

ClientFactory = Callable[..., TestClient]


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "demo_mode": True,
        "identity_secret": IDENTITY_SECRET,
        "rate_limit_enabled": True,
        "chat_rate_limit_per_identity": "3/minute",
        "chat_rate_limit_per_address": "5/minute",
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[ClientFactory]:
    """Start apps (replicas of one deployment when given the same settings) with clients at a given address."""
    with ExitStack() as stack:

        def start(settings: Settings, address: str = "198.51.100.10", app: FastAPI | None = None) -> TestClient:
            prepare(settings)
            app = app or create_app(settings, rasa=FakeRasa())
            client = stack.enter_context(TestClient(app, client=(address, 40000)))
            stack.callback(app.state.rate_limiter.reset)
            return client

        yield start


def _as(customer_id: str) -> dict[str, str]:
    return {"token": identity.mint_token(customer_id, IDENTITY_SECRET, 600)}


def _send(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> int:
    return client.post("/api/chat", json={"message": "hi", **body}, headers=headers).status_code


def test_a_customer_over_its_limit_gets_429_with_retry_after(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(_settings(tmp_path))
    assert [_send(client, **_as("acme-1")) for _ in range(3)] == [200] * 3
    refused = client.post("/api/chat", json={"message": "hi", **_as("acme-1")})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many messages" in refused.json()["detail"]
    # Another customer at the same address is not blocked by the first one's limit.
    assert _send(client, **_as("acme-2")) == 200


def test_the_address_limit_holds_across_customers(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(_settings(tmp_path))
    assert [_send(client, **_as("acme-1")) for _ in range(4)] == [200, 200, 200, 429]  # the refusal costs nothing
    assert [_send(client, **_as("acme-2")) for _ in range(3)] == [200, 200, 429]  # 5 per address
    refused = client.post("/api/chat", json={"message": "hi"})  # even a new anonymous conversation
    assert refused.status_code == 429
    assert "network address" in refused.json()["detail"]
    assert "Retry-After" in refused.headers


def test_an_anonymous_conversation_counts_as_one_identity(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(
        _settings(tmp_path, chat_rate_limit_per_identity="2/minute", chat_rate_limit_per_address="9/minute")
    )
    started = client.post("/api/chat", json={"message": "hi"})  # a new conversation counts on the address only
    assert started.status_code == 200
    conversation_id = started.json()["conversation_id"]
    statuses = [_send(client, conversation_id=conversation_id) for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert _send(client) == 200  # a new anonymous conversation from the same address still gets through


def test_limits_can_be_turned_off(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(_settings(tmp_path, rate_limit_enabled=False))
    assert {_send(client, **_as("acme-1")) for _ in range(8)} == {200}


def test_forwarded_for_from_an_untrusted_peer_is_ignored(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(_settings(tmp_path, trusted_proxies=[PROXY]), address=ATTACKER)
    # A new forged address on every message does not buy a new address budget.
    statuses = [_send(client, {"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_clients_behind_a_trusted_proxy_get_their_own_address_limits(clients: ClientFactory, tmp_path: Path) -> None:
    client = clients(_settings(tmp_path, trusted_proxies=["10.0.0.0/8"]), address=PROXY)
    first, second = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    assert [_send(client, first) for _ in range(6)] == [200] * 5 + [429]
    assert [_send(client, second) for _ in range(5)] == [200] * 5


def test_the_client_address_is_the_forwarded_one_only_from_a_trusted_proxy(
    clients: ClientFactory, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, trusted_proxies=["10.0.0.0/8"])
    app = create_app(settings, rasa=FakeRasa())

    @app.get("/test/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return {"address": client_address(request), "scheme": request.url.scheme}

    forwarded = {"X-Forwarded-For": "198.51.100.7, 10.0.0.9", "X-Forwarded-Proto": "https"}
    via_proxy = clients(settings, address=PROXY, app=app).get("/test/whoami", headers=forwarded).json()
    # The proxies' own hops (trusted) are skipped: the client is the last untrusted address.
    assert via_proxy == {"address": "198.51.100.7", "scheme": "https"}
    direct = clients(settings, address=ATTACKER, app=app).get("/test/whoami", headers=forwarded).json()
    assert direct == {"address": ATTACKER, "scheme": "http"}


def test_without_trusted_proxies_forwarded_headers_are_never_believed(clients: ClientFactory, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    app = create_app(settings, rasa=FakeRasa())

    @app.get("/test/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return {"address": client_address(request)}

    client = clients(settings, address="127.0.0.1", app=app)
    assert client.get("/test/whoami", headers={"X-Forwarded-For": "198.51.100.7"}).json() == {"address": "127.0.0.1"}


def test_replicas_sharing_redis_share_the_counts(
    clients: ClientFactory, tmp_path: Path, redis_store: tuple[str, str]
) -> None:
    url, prefix = redis_store
    settings = _settings(tmp_path, redis_url=url, redis_key_prefix=prefix)
    first, second = clients(settings), clients(settings)  # two apps, same address, same Redis
    assert first.app is not second.app
    assert [_send(first, **_as("acme-1")), _send(second, **_as("acme-1")), _send(first, **_as("acme-1"))] == [200] * 3
    assert _send(second, **_as("acme-1")) == 429  # the identity limit (3) counted across both
    assert [_send(second, **_as("acme-2")), _send(first, **_as("acme-2"))] == [200, 200]
    assert _send(first, **_as("acme-3")) == 429  # the address limit (5) counted across both
