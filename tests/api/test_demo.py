"""api/routes/demo.py: demo identities (fresh tokens, and the legacy signature while allowed), only in demo mode."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.demo import DEMO_TOKEN_LIFETIME_S
from api.settings import Settings
from keepwell import identity
from keepwell.bootstrap import prepare
from tests.api.fakes import FakeRasa

SECRET = "demo-test-identity-secret-of-32-bytes"


@contextmanager
def _client(tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    settings = Settings(**{"data_dir": tmp_path, "identity_secret": SECRET, "rate_limit_enabled": False, **overrides})
    prepare(settings)
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        yield client


def test_demo_customers_come_with_fresh_valid_tokens(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        before = int(time.time())
        response = client.get("/api/demo/customers")
        body = response.json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["count"] == len(body["data"]) >= 60
    for customer in body["data"]:
        assert identity.verify_token(customer["token"], SECRET, 3600) == customer["id"]
        claims = jwt.decode(customer["token"], SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == DEMO_TOKEN_LIFETIME_S and claims["iat"] >= before
        assert datetime.fromisoformat(customer["token_expires_at"]).timestamp() == claims["exp"]
        assert customer["name"] and customer["segment"]


def test_demo_tokens_never_outlive_the_cap(tmp_path: Path) -> None:
    with _client(tmp_path, identity_token_max_lifetime_s=600) as client:
        [customer, *_] = client.get("/api/demo/customers").json()["data"]
    claims = jwt.decode(customer["token"], SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 600


def test_the_legacy_signature_comes_only_while_allowed(tmp_path: Path) -> None:
    with _client(tmp_path / "on") as client:
        allowed = client.get("/api/demo/customers").json()["data"]
    assert all(identity.verify(c["id"], c["signature"], SECRET) for c in allowed)
    with _client(tmp_path / "off", allow_static_signature=False) as client:
        refused = client.get("/api/demo/customers").json()["data"]
    assert all(c["signature"] is None and c["token"] for c in refused)


def test_demo_customers_do_not_exist_outside_demo_mode(tmp_path: Path) -> None:
    with _client(
        tmp_path,
        demo_mode=False,
        rasa_token="a-real-rasa-token",
        internal_secret="internal-secret-of-at-least-32-bytes",
    ) as client:
        assert client.get("/api/demo/customers").status_code == 404
