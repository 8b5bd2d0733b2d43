"""api/routes/ingest.py: POST /api/ingest/events with an API key, on SQLite and PostgreSQL: 401/403/422/429 paths,
all-or-nothing batches named item by item, idempotence, and the accounts' current terms kept in step."""

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from api.schemas import IngestValidationErrorPublic
from api.settings import Settings
from keepwell import api_keys
from keepwell.models import ApiKey, Contact, Customer, Subscription, SurveyAnswer, UsageSnapshot
from tests.api.conftest import IDENTITY_SECRET

URL = "/api/ingest/events"
ACCOUNT = "cus_001"  # a demo account (keepwell.demo_data)
TODAY = date.today()


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The app on a SQLite file, then on a fresh PostgreSQL schema."""
    database_url = None
    if request.param == "postgresql":
        engine: Engine = request.getfixturevalue("postgres_engine")
        database_url = engine.url.render_as_string(hide_password=False)
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
    )


@pytest.fixture
def new_key(db: Session) -> Callable[..., str]:
    def make(name: str = "product backend") -> str:
        created = api_keys.create(db, name, "cli")
        db.commit()
        return created.key

    return make


@pytest.fixture
def key(new_key: Callable[..., str]) -> str:
    return new_key()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _contact(db: Session) -> str:
    external_id = db.scalar(select(Contact.external_id).where(Contact.account_id == ACCOUNT).limit(1))
    db.rollback()
    assert external_id is not None
    return external_id


def _usage(**fields: Any) -> dict[str, Any]:
    item = {
        "type": "usage",
        "account_id": ACCOUNT,
        "period_end": (TODAY + timedelta(days=7)).isoformat(),  # a period the demo has not seeded
        "period_days": 7,
        "logins": 120,
        "active_users": 9,
        "features": {"automations": 4, "reports": 0, "slack": 2, "api": 1},
    }
    return {**item, **fields}


def _survey(contact: str, **fields: Any) -> dict[str, Any]:
    item = {
        "type": "survey",
        "external_id": "ingest-nps-1",
        "account_id": ACCOUNT,
        "contact_external_id": contact,
        "kind": "nps",
        "score": 9,
        "answered_at": f"{TODAY.isoformat()}T10:30:00Z",
    }
    return {**item, **fields}


def _subscription(**fields: Any) -> dict[str, Any]:
    item = {
        "type": "subscription",
        "external_id": "ingest-sub-1",
        "account_id": ACCOUNT,
        "plan": "enterprise",
        "mrr": 4321.5,
        "seats_purchased": 77,
        "seats_used": 70,
        "started_on": (TODAY - timedelta(days=1)).isoformat(),
        "renews_on": (TODAY + timedelta(days=364)).isoformat(),
        "status": "active",
    }
    return {**item, **fields}


def _state(db: Session) -> tuple[Any, ...]:
    """What an ingest batch could change: row counts, and the account's current terms and usage."""
    db.expire_all()
    counts = tuple(
        db.scalar(select(func.count()).select_from(model)) for model in (UsageSnapshot, SurveyAnswer, Subscription)
    )
    customer = db.get(Customer, ACCOUNT)
    assert customer is not None
    terms = (customer.plan, customer.mrr, customer.seats_purchased, customer.seats_used, customer.renewal_date)
    usage = db.execute(
        select(UsageSnapshot.period_end, UsageSnapshot.logins, UsageSnapshot.feature_adoption)
        .where(UsageSnapshot.customer_id == ACCOUNT)
        .order_by(UsageSnapshot.period_end)
    ).all()
    answers = db.execute(select(SurveyAnswer.external_id, SurveyAnswer.score).order_by(SurveyAnswer.id)).all()
    db.rollback()
    return counts, terms, tuple(usage), tuple(answers)


def test_a_batch_is_written_and_the_account_terms_follow_the_subscription(
    client: TestClient, db: Session, key: str
) -> None:
    contact = _contact(db)
    before = _state(db)
    response = client.post(URL, json={"items": [_usage(), _survey(contact), _subscription()]}, headers=_auth(key))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 3, "written": {"usage": 1, "survey": 1, "subscription": 1}}
    counts, terms, usage, answers = _state(db)
    assert counts == tuple(n + 1 for n in before[0])
    assert terms == ("enterprise", 4321.5, 77, 70, TODAY + timedelta(days=364))
    assert (TODAY + timedelta(days=7), 120, 0.75) in usage  # 3 of 4 features in use
    assert ("ingest-nps-1", 9) in answers


def test_sending_a_batch_again_changes_nothing(client: TestClient, db: Session, key: str) -> None:
    batch = {"items": [_usage(), _survey(_contact(db)), _subscription()]}
    first = client.post(URL, json=batch, headers=_auth(key))
    assert first.status_code == 200, first.text
    after_first = _state(db)
    again = client.post(URL, json=batch, headers=_auth(key))
    assert again.status_code == 200 and again.json() == first.json()
    assert _state(db) == after_first
    # A changed value for the same natural key updates the row in place.
    changed = client.post(URL, json={"items": [_usage(logins=5)]}, headers=_auth(key))
    assert changed.status_code == 200
    counts, _, usage, _ = _state(db)
    assert counts == after_first[0]
    assert (TODAY + timedelta(days=7), 5, 0.75) in usage


def test_a_bad_item_refuses_the_batch_naming_each_failing_item(client: TestClient, db: Session, key: str) -> None:
    contact = _contact(db)
    before = _state(db)
    items = [
        _usage(),  # fine, but not written: the batch is all or nothing
        _survey(contact, score=11),
        _subscription(account_id="cus_nobody"),
        {"type": "refund", "account_id": ACCOUNT},
        _usage(logins=-1, period_end=(TODAY + timedelta(days=14)).isoformat()),
        _subscription(mrr="lots", external_id="ingest-sub-2"),
        _survey(contact, external_id="ingest-nps-2", contact_external_id="nobody@nowhere"),
    ]
    response = client.post(URL, json={"items": items}, headers=_auth(key))
    assert response.status_code == 422
    body = IngestValidationErrorPublic.model_validate(response.json())
    named = [(error.item, error.field) for error in body.items]
    assert named == [
        (1, None),
        (2, "account_id"),
        (3, "type"),
        (4, "logins"),
        (5, "mrr"),
        (6, "contact_external_id"),
    ]
    reasons = {error.item: error.reason for error in body.items}
    assert "nps score is 0 to 10, not 11" in reasons[1]
    assert "unknown account 'cus_nobody'" in reasons[2]
    assert "unknown type 'refund'" in reasons[3]
    assert "greater than or equal to 0" in reasons[4]
    assert body.errors[0].startswith("items[1]: ") and body.errors[1].startswith("items[2].account_id: ")
    assert _state(db) == before


def test_a_duplicate_in_a_batch_is_named_by_its_index_in_the_batch(client: TestClient, db: Session, key: str) -> None:
    before = _state(db)
    items = [_subscription(), _usage(), _subscription(mrr=1.0)]
    response = client.post(URL, json={"items": items}, headers=_auth(key))
    assert response.status_code == 422
    [error] = response.json()["items"]
    assert (error["item"], error["field"]) == (2, None)
    assert "duplicate of item 0" in error["reason"]
    assert _state(db) == before


@pytest.mark.parametrize("count", [0, 1001])
def test_an_empty_or_too_large_batch_is_refused(client: TestClient, db: Session, key: str, count: int) -> None:
    before = _state(db)
    items = [_usage(period_end=(TODAY + timedelta(days=n + 1)).isoformat()) for n in range(count)]
    response = client.post(URL, json={"items": items}, headers=_auth(key))
    assert response.status_code == 422
    body = IngestValidationErrorPublic.model_validate(response.json())
    expected = "at least 1 item" if count == 0 else "at most 1000 items"
    assert len(body.errors) == 1 and body.errors[0].startswith("items: ") and expected in body.errors[0]
    assert _state(db) == before


def test_a_full_batch_of_1000_is_accepted(client: TestClient, db: Session, key: str) -> None:
    items = [_usage(period_end=(TODAY + timedelta(days=n + 1)).isoformat()) for n in range(1000)]
    response = client.post(URL, json={"items": items}, headers=_auth(key))
    assert response.status_code == 200, response.text[:500]
    assert response.json()["written"] == {"usage": 1000}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer kwk_" + "A" * 43, "Basic dXNlcjpwYXNz", "kwk_" + "A" * 43],
    ids=["none", "empty", "no-key", "unknown-key", "basic", "no-scheme"],
)
def test_without_a_valid_key_the_answer_is_401(
    client: TestClient, db: Session, key: str, authorization: str | None
) -> None:
    before = _state(db)
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(URL, json={"items": [_usage()]}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="keepwell-ingest"')
    assert set(response.json()) == {"detail"}
    assert _state(db) == before


def test_a_revoked_key_is_refused_at_once(client: TestClient, db: Session, key: str) -> None:
    assert client.post(URL, json={"items": [_usage()]}, headers=_auth(key)).status_code == 200
    [view] = api_keys.list_keys(db)
    api_keys.revoke(db, view.id, "cli")
    db.commit()
    before = _state(db)
    response = client.post(URL, json={"items": [_usage(logins=1)]}, headers=_auth(key))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert _state(db) == before


def test_a_key_without_the_ingest_scope_is_403(client: TestClient, db: Session, key: str) -> None:
    db.execute(update(ApiKey).values(scopes=["export"]))
    db.commit()
    before = _state(db)
    response = client.post(URL, json={"items": [_usage()]}, headers=_auth(key))
    assert response.status_code == 403 and "ingest scope" in response.json()["detail"]
    assert _state(db) == before


def test_a_call_records_when_the_key_was_last_used(client: TestClient, db: Session, key: str) -> None:
    assert api_keys.list_keys(db)[0].last_used_at is None
    db.rollback()
    assert client.post(URL, json={"items": [_usage()]}, headers=_auth(key)).status_code == 200
    db.expire_all()
    assert api_keys.list_keys(db)[0].last_used_at is not None


def test_the_schema_documents_the_items_and_the_errors(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][URL]["post"]
    assert operation["security"] == [{"ApiKey": []}]
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    responses = operation["responses"]
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/IngestValidationErrorPublic")
    assert {"401", "403", "422", "429"} <= set(responses)
    batch = document["components"]["schemas"]["IngestBatchIn"]["properties"]["items"]
    assert batch["maxItems"] == 1000
    types = {variant["properties"]["type"]["const"]: variant for variant in batch["items"]["oneOf"]}
    assert set(types) == {"usage", "survey", "subscription"}
    assert {"account_id", "period_end", "logins"} <= set(types["usage"]["required"])
    assert "seats_purchased" in types["subscription"]["properties"]


class TestRateLimit:
    @pytest.fixture(params=["sqlite"])
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(
            data_dir=tmp_path, demo_mode=True, identity_secret=IDENTITY_SECRET, ingest_rate_limit_per_key="2/minute"
        )

    def test_each_key_is_limited_on_its_own(self, client: TestClient, new_key: Callable[..., str]) -> None:
        first, second = new_key("first"), new_key("second")
        batch = {"items": [_usage()]}
        for _ in range(2):
            assert client.post(URL, json=batch, headers=_auth(first)).status_code == 200
        limited = client.post(URL, json=batch, headers=_auth(first))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert client.post(URL, json=batch, headers=_auth(second)).status_code == 200
