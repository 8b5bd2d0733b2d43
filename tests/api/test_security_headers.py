"""Security headers (api/middleware.py) on every response, and templates a CSP without inline script can serve."""

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.main import create_app
from api.middleware import SecurityHeadersMiddleware
from api.settings import Settings
from tests.api.fakes import FakeRasa

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
STRICT = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
}


def _assert_secured(response: httpx.Response, frame_ancestors: str = "'self'") -> None:
    headers = response.headers
    directives = {directive.strip() for directive in headers["Content-Security-Policy"].split(";")}
    assert STRICT <= directives, directives
    assert f"frame-ancestors {frame_ancestors}" in directives
    assert not any("unsafe" in directive for directive in directives)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"strict-origin-when-cross-origin", "same-origin", "no-referrer"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/", 200, None),  # a page
        ("GET", "/help", 200, None),
        ("GET", "/api/demo/customers", 200, None),  # an API response
        ("GET", "/static/widget.js", 200, None),  # a static file
        ("GET", "/static/no-such-file.js", 404, None),
        ("GET", "/no/such/page", 404, None),  # a 404
        ("GET", "/help/billing/no-such-article", 404, None),  # the site's own 404 page
        ("POST", "/api/chat", 422, {"message": ""}),  # a 422
        ("POST", "/api/chat", 401, {"message": "hi", "token": "not-a-token"}),  # an error the route raises
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int, body: object
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    _assert_secured(response)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", ["/console/login", "/console", "/console/no-such-page"])
def test_the_console_may_not_be_framed_at_all(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    _assert_secured(response, frame_ancestors="'none'")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_hsts_in_demo_mode_over_plain_http(client: TestClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize(
    "overrides",
    [
        {"demo_mode": True, "cookie_secure": True},
        {
            "demo_mode": False,
            "identity_secret": "headers-test-identity-secret",
            "internal_secret": "headers-test-internal-secret",
            "rasa_token": "headers-test-rasa-token",
        },
    ],
)
def test_hsts_when_cookies_are_secure(tmp_path: Path, overrides: dict[str, object]) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit_enabled=False, **overrides)
    client = TestClient(create_app(settings, rasa=FakeRasa()))  # no lifespan needed for static files and 404s
    for path in ("/static/site.css", "/no/such/page"):
        assert client.get(path).headers["Strict-Transport-Security"].startswith("max-age=")


async def _own_policy(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok", headers={"Content-Security-Policy": "default-src 'none'"})


def test_a_header_the_route_set_itself_is_kept() -> None:
    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/own", _own_policy)]))
    response = TestClient(app).get("/own")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda path: path.name)
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    """What the CSP would block: inline <script> and <style>, style="" attributes, on...="" handlers, javascript:.

    A JSON data block (`<script type="application/json">`, how chart pages hand numbers to their script) is never
    executed, so the CSP lets it be; every other script must come from a file."""
    html = template.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
    executable = [tag for tag in scripts if 'type="application/json"' not in tag]
    assert all(re.search(r"\ssrc=", tag) for tag in executable), executable
    assert not re.search(r"<style\b", html, flags=re.IGNORECASE)
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE)
    assert "javascript:" not in html.lower()
