"""api/routes/health.py: 200 only when Rasa, the action server and the knowledge base are all ready."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.fakes import FakeRasa


def _action_server(status: int, body: bytes) -> HTTPServer:
    """A tiny HTTP server on loopback answering `/ready` like the action server does."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/ready" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def ready_actions() -> Iterator[str]:
    server = _action_server(200, b'{"knowledge_base": {"ready": true, "detail": "45 articles"}}')
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _client(tmp_path: Path, action_url: str, rasa: FakeRasa) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, action_server_url=action_url), rasa=rasa))


def test_all_parts_ready_is_200(tmp_path: Path, ready_actions: str) -> None:
    with _client(tmp_path, ready_actions, FakeRasa()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["knowledge_base"] == {"ready": True, "detail": "45 articles"}


def test_rasa_down_is_503_and_named(tmp_path: Path, ready_actions: str) -> None:
    rasa = FakeRasa()
    rasa.available = False
    with _client(tmp_path, ready_actions, rasa) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["components"]["rasa"]["ready"] is False
    assert response.json()["components"]["action_server"]["ready"] is True


def test_action_server_unreachable_is_503(tmp_path: Path) -> None:
    server = _action_server(200, b"{}")
    url = f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    with _client(tmp_path, url, FakeRasa()) as client:
        body = client.get("/api/health").json()
    assert body["status"] == "unavailable"
    assert body["components"]["action_server"]["ready"] is False
    assert body["components"]["knowledge_base"]["ready"] is False


def test_knowledge_base_not_loaded_is_503(tmp_path: Path) -> None:
    server = _action_server(503, b'{"knowledge_base": {"ready": false, "detail": "index not loaded"}}')
    with _client(tmp_path, f"http://127.0.0.1:{server.server_port}", FakeRasa()) as client:
        response = client.get("/api/health")
    server.shutdown()
    server.server_close()
    assert response.status_code == 503
    assert response.json()["components"]["knowledge_base"] == {"ready": False, "detail": "index not loaded"}
