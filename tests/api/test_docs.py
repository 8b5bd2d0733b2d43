"""The interactive API docs and the OpenAPI schema: served in demo mode only, with a policy Swagger UI can run in."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.fakes import FakeRasa

DOCS = ["/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"]


@pytest.mark.parametrize("path", DOCS)
def test_docs_are_served_in_demo_mode(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_the_schema_describes_the_chat_api(client: TestClient) -> None:
    assert "/api/chat" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_get_a_policy_their_inline_script_and_cdn_assets_fit(client: TestClient, path: str) -> None:
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_docs_pages_are_relaxed(client: TestClient) -> None:
    for path in ("/", "/openapi.json", "/docs/other"):
        assert "unsafe-inline" not in client.get(path).headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", DOCS)
def test_no_docs_outside_demo_mode(tmp_path: Path, path: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        demo_mode=False,
        identity_secret="docs-test-identity-secret",
        internal_secret="docs-test-internal-secret",
        rasa_token="docs-test-rasa-token",
    )
    response = TestClient(create_app(settings, rasa=FakeRasa())).get(path)
    assert response.status_code == 404
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
