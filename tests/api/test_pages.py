"""api/routes/pages.py: the demo site, the in-app demo page, the help centre and the static widget files."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.pages import category_label
from api.settings import Settings
from tests.api.conftest import CSM_PASSWORD, CSM_USERNAME, IDENTITY_SECRET

ARTICLES = {
    "billing/refunds.md": """---
title: Refunds for <b>annual</b> plans
summary: When Orbitly refunds a payment & how.
---
Annual plans are refunded **pro rata** within 30 days.

<script>alert("from the article")</script>

## Ask for a refund
1. Open *Settings > Billing*.
2. Click [Contact us](https://orbitly.example/contact).
""",
    "getting-started/create-workspace.md": """---
title: Create your workspace
summary: Sign up and pick a workspace URL.
---
Every new workspace starts on the Free plan.
""",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shared test settings, with a small knowledge base of our own so the help pages are predictable."""
    content = tmp_path / "kb"
    for name, body in ARTICLES.items():
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_text(body, encoding="utf-8")
    return Settings(
        data_dir=tmp_path / "data",
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        session_secret="api-test-session-secret",
        csm_username=CSM_USERNAME,
        csm_password=CSM_PASSWORD,
        rate_limit_enabled=False,
        kb_content_dir=content,
    )


def _script_sources(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/", "/app", "/help", "/help/billing/refunds"])
def test_public_pages_load_the_widget_and_only_local_assets(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "/static/widget.js" in _script_sources(html)
    assert 'href="/static/widget.css"' in html
    # Everything is served by the gateway: no CDN, no web fonts, nothing that needs the internet.
    assets = re.findall(r'\ssrc="([^"]*)"', html) + re.findall(r'<link[^>]*\shref="([^"]*)"', html)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets)
    # No inline scripts: the pages pass settings to the widget through data attributes.
    assert all(" src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_home_page_is_the_orbitly_site_with_an_anonymous_widget(client: TestClient) -> None:
    html = client.get("/").text
    assert "<h1>Plan, track and ship work" in html
    assert 'id="features"' in html and 'id="pricing"' in html
    assert "$24" in html  # the Growth plan in the pricing teaser
    assert "/static/site.js" in _script_sources(html)
    assert 'data-title="Orbitly support"' in html


def test_app_page_has_the_signed_in_as_picker_and_segment(client: TestClient) -> None:
    html = client.get("/app").text
    assert '<label for="demo-customer">Signed in as</label>' in html
    assert 'id="demo-customer"' in html
    assert 'id="demo-segment"' in html
    assert "/static/app.js" in _script_sources(html)
    # The picker is filled from this endpoint; it answers in demo mode.
    customers = client.get("/api/demo/customers").json()
    assert customers["count"] > 0


def test_help_index_groups_articles_by_category_first_steps_first(client: TestClient) -> None:
    html = client.get("/help").text
    assert '<h2 id="cat-billing">Plans &amp; billing</h2>' in html
    assert '<h2 id="cat-getting-started">Getting started</h2>' in html
    assert '<a href="/help/billing/refunds">Refunds for &lt;b&gt;annual&lt;/b&gt; plans</a>' in html
    assert "When Orbitly refunds a payment &amp; how." in html
    assert html.index('id="cat-getting-started"') < html.index('id="cat-billing"')


def test_help_article_renders_sanitised_markdown(client: TestClient) -> None:
    response = client.get("/help/billing/refunds")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Refunds for &lt;b&gt;annual&lt;/b&gt; plans</h1>" in html
    assert "<strong>pro rata</strong>" in html
    assert '<h2 id="ask-for-a-refund">Ask for a refund</h2>' in html  # the anchor the bot's section links use
    assert '<a href="https://orbitly.example/contact"' in html
    # Raw HTML in an article is shown as text, never executed.
    assert '<script>alert("from the article")</script>' not in html
    assert "&lt;script&gt;" in html
    assert '<a href="/help#cat-billing">Plans &amp; billing</a>' in html


def test_unknown_help_article_is_a_404_page(client: TestClient) -> None:
    response = client.get("/help/billing/no-such-article")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


@pytest.mark.parametrize("path", ["/help/Billing/refunds", "/help/billing/refunds.md", "/help/billing/-refunds"])
def test_help_paths_outside_the_slug_pattern_are_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422


def test_help_path_traversal_finds_nothing(client: TestClient) -> None:
    response = client.get("/help/..%2F..%2Fapi/settings")
    assert response.status_code in (404, 422)
    assert "csm_password" not in response.text


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/static/widget.js", "javascript", "KeepwellWidget"),
        ("/static/widget.css", "text/css", ".kw-launcher"),
        ("/static/site.js", "javascript", "KeepwellWidget.init"),
        ("/static/app.js", "javascript", "/api/demo/customers"),
        ("/static/site.css", "text/css", ".hero"),
        ("/static/console.css", "text/css", ".bubble"),
        ("/static/favicon.svg", "image/svg+xml", "<svg"),
    ],
)
def test_static_files_are_served(client: TestClient, path: str, content_type: str, marker: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert marker in response.text


def test_widget_never_parses_text_as_html(client: TestClient) -> None:
    for script in ("/static/widget.js", "/static/site.js", "/static/app.js"):
        source = client.get(script).text
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script} uses {sink}"


def test_widget_exposes_the_ids_browser_tests_rely_on(client: TestClient) -> None:
    source = client.get("/static/widget.js").text
    for element_id in ("kw-launcher", "kw-panel", "kw-input", "kw-send", "kw-messages"):
        assert f'id: "{element_id}"' in source
    for class_name in ("kw-msg-bot", "kw-msg-user", "kw-button", "kw-source"):
        assert class_name in source


@pytest.mark.parametrize(
    ("category", "label"),
    [("admin-security", "Admin & security"), ("getting-started", "Getting started"), ("new-things", "New things")],
)
def test_category_labels(category: str, label: str) -> None:
    assert category_label(category) == label
