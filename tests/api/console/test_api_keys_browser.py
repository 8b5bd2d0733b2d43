"""The API keys page in headless Chromium (Debian's package) against a real gateway on a loopback port: an admin
creates a key and copies it, the key ingests, the admin revokes it, and the key is refused."""

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.console.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def page(base_url: str) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        yield context.new_page()
        context.close()


def _ingest(base_url: str, key: str) -> httpx.Response:
    item = {
        "type": "usage",
        "account_id": "cus_001",
        "period_end": date.today().isoformat(),
        "period_days": 1,
        "logins": 3,
        "active_users": 2,
        "feature_adoption": 0.5,
    }
    return httpx.post(
        f"{base_url}/api/ingest/events",
        json={"items": [item]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_an_admin_creates_copies_uses_and_revokes_a_key(base_url: str, page: Page) -> None:
    page.goto(f"{base_url}/console/api-keys")
    page.fill("input[name=username]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("API keys")

    page.fill("#key-name", "Billing backend")
    page.click("text=Create key")
    expect(page.locator("h1")).to_have_text("API key created")
    key = page.locator("#new-api-key").inner_text().strip()
    assert key.startswith("kwk_")
    copy = page.locator("#copy-api-key")
    expect(copy).to_be_visible()  # shown by the script only; without it the key is selected by hand
    copy.click()
    expect(page.locator("#copy-api-key-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == key

    assert _ingest(base_url, key).status_code == 200

    page.goto(f"{base_url}/console/api-keys")
    row = page.locator("#api-keys tbody tr", has_text="Billing backend")
    expect(row).to_contain_text("Active")
    assert key not in page.content()
    row.get_by_role("link", name="Revoke").click()
    expect(page.locator("h1")).to_have_text("Revoke Billing backend?")
    page.click("text=Revoke the key")
    expect(page.locator("[role=status]")).to_contain_text("is revoked")
    expect(page.locator("#api-keys tbody tr", has_text="Billing backend")).to_contain_text("Revoked")

    refused = _ingest(base_url, key)
    assert refused.status_code == 401
