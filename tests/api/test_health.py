"""api/routes/health.py: `ok` when every part is ready, `degraded` (200) naming what is down, `unavailable` (503)."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.main import create_app
from api.services import health as health_service
from api.settings import Settings
from keepwell.bootstrap import prepare
from tests.api.fakes import FakeRasa


def _action_server(status: int, body: bytes, delay_s: float = 0.0) -> HTTPServer:
    """A tiny HTTP server on loopback answering `/ready` like the action server does (after `delay_s`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay_s)
            self.send_response(status if self.path == "/ready" else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            return None  # a client that gave up waiting (the hung-server test) is expected

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stopped_server_url() -> str:
    server = _action_server(200, b"{}")
    url = f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    return url


@pytest.fixture
def ready_actions() -> Iterator[str]:
    server = _action_server(200, b'{"knowledge_base": {"ready": true, "detail": "45 articles"}}')
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _client(tmp_path: Path, action_url: str, rasa: FakeRasa) -> TestClient:
    settings = Settings(data_dir=tmp_path, action_server_url=action_url)
    prepare(settings)
    return TestClient(create_app(settings, rasa=rasa))


def test_all_parts_ready_is_ok(tmp_path: Path, ready_actions: str) -> None:
    with _client(tmp_path, ready_actions, FakeRasa()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert set(body["components"]) == {"rasa", "action_server", "knowledge_base", "database"}
    assert all(part["ready"] for part in body["components"].values())
    assert body["components"]["knowledge_base"] == {"ready": True, "detail": "45 articles"}


def test_rasa_down_is_degraded_and_named(tmp_path: Path, ready_actions: str) -> None:
    rasa = FakeRasa()
    rasa.available = False
    with _client(tmp_path, ready_actions, rasa) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["rasa"]
    assert body["components"]["rasa"] == {"ready": False, "detail": "not reachable"}
    assert "rasa: not reachable" in body["detail"]
    assert body["components"]["action_server"]["ready"] is True


def test_action_server_unreachable_is_degraded_and_named(tmp_path: Path) -> None:
    with _client(tmp_path, _stopped_server_url(), FakeRasa()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert "action_server" in body["down"]
    assert body["components"]["action_server"]["detail"] == "not reachable (ConnectError)"
    assert body["components"]["knowledge_base"]["ready"] is False
    assert body["components"]["rasa"]["ready"] is True


def test_hung_action_server_is_reported_within_the_probe_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health_service, "PROBE_TIMEOUT_S", 0.3)
    server = _action_server(200, b"{}", delay_s=2.0)
    try:
        with _client(tmp_path, f"http://127.0.0.1:{server.server_port}", FakeRasa()) as client:
            started = time.monotonic()
            body = client.get("/api/health").json()
            elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert elapsed < 1.5
    assert body["status"] == "degraded"
    assert body["components"]["action_server"] == {"ready": False, "detail": "not answering (ReadTimeout)"}


def test_knowledge_base_not_loaded_is_degraded(tmp_path: Path) -> None:
    server = _action_server(503, b'{"knowledge_base": {"ready": false, "detail": "index not loaded"}}')
    try:
        with _client(tmp_path, f"http://127.0.0.1:{server.server_port}", FakeRasa()) as client:
            response = client.get("/api/health")
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["down"] == ["knowledge_base"]
    assert response.json()["components"]["knowledge_base"] == {"ready": False, "detail": "index not loaded"}


def test_database_unreachable_is_unavailable_503(tmp_path: Path, ready_actions: str) -> None:
    with _client(tmp_path, ready_actions, FakeRasa()) as client:
        # Nothing listens on port 1: the connection is refused at once.
        client.app.state.engine = create_engine("postgresql+psycopg://127.0.0.1:1/keepwell")  # type: ignore[attr-defined]
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["database"]
    assert body["components"]["database"]["ready"] is False
    assert body["components"]["database"]["detail"].startswith("not reachable")
