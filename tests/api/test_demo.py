"""api/routes/demo.py: signed demo identities, only in demo mode."""

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from keepwell import identity
from tests.api.fakes import FakeRasa


def test_demo_customers_come_with_valid_signatures(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, identity_secret="demo-test-secret")
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        body = client.get("/api/demo/customers").json()
    assert body["count"] == len(body["data"]) >= 60
    for customer in body["data"]:
        assert identity.verify(customer["id"], customer["signature"], "demo-test-secret")
        assert customer["name"] and customer["segment"]


def test_demo_customers_do_not_exist_outside_demo_mode(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, demo_mode=False, identity_secret="s1", rasa_token="t1", session_secret="s2",
        csm_password="a-real-password",
    )  # fmt: skip
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        assert client.get("/api/demo/customers").status_code == 404
