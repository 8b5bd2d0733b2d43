"""CORS (api/middleware.py): the chat API answers configured origins only; nothing else is readable cross-origin."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from keepwell.bootstrap import prepare
from tests.api.conftest import IDENTITY_SECRET
from tests.api.fakes import FakeRasa

HOST_SITE = "https://shop.example.com"
OTHER_SITE = "https://evil.example.net"
CONVERSATION = "a" * 32


def _client(tmp_path: Path, origins: list[str]) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path,
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
        cors_origins=origins,
    )
    prepare(settings)
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, [HOST_SITE])


def _preflight(
    client: TestClient, path: str, origin: str, method: str = "POST", headers: str = "content-type"
) -> httpx.Response:
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/api/chat", "POST", "content-type"),
        ("/api/chat", "POST", "authorization, content-type"),
        (f"/api/conversations/{CONVERSATION}/messages", "GET", "authorization"),
        (f"/api/conversations/{CONVERSATION}/events", "GET", "authorization, last-event-id"),
    ],
)
def test_preflight_from_a_configured_origin_is_allowed(
    client: TestClient, path: str, method: str, headers: str
) -> None:
    response = _preflight(client, path, HOST_SITE, method, headers)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == HOST_SITE
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert all(name.strip() in allowed for name in headers.split(","))
    assert "Access-Control-Allow-Credentials" not in response.headers  # bearer tokens, never cookies
    assert "Content-Security-Policy" in response.headers  # preflights get the security headers too


def test_a_chat_from_a_configured_origin_can_be_read(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": HOST_SITE})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == HOST_SITE
    assert "retry-after" in response.headers["Access-Control-Expose-Headers"].lower()
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_other_origins_are_refused(client: TestClient) -> None:
    preflight = _preflight(client, "/api/chat", OTHER_SITE)
    assert preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": OTHER_SITE})
    assert "Access-Control-Allow-Origin" not in response.headers  # the browser keeps the answer from the page


def test_methods_and_headers_outside_the_chat_api_contract_are_refused(client: TestClient) -> None:
    assert _preflight(client, "/api/chat", HOST_SITE, method="DELETE").status_code == 400
    assert _preflight(client, "/api/chat", HOST_SITE, headers="x-custom").status_code == 400


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/console/login", "POST"),
        ("/console", "GET"),
        ("/", "GET"),
        ("/help", "GET"),
        ("/api/health", "GET"),
        ("/api/demo/customers", "GET"),
        ("/static/widget.js", "GET"),
    ],
)
def test_nothing_but_the_chat_api_answers_cross_origin(client: TestClient, path: str, method: str) -> None:
    assert "Access-Control-Allow-Origin" not in _preflight(client, path, HOST_SITE, method).headers
    response = client.request(method, path, headers={"Origin": HOST_SITE}, follow_redirects=False)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_without_configured_origins_the_chat_api_is_same_origin_only(tmp_path: Path) -> None:
    for client in _client(tmp_path, []):
        assert "Access-Control-Allow-Origin" not in _preflight(client, "/api/chat", HOST_SITE).headers
        response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": HOST_SITE})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
