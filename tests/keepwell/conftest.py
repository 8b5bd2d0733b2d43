"""Factories for the domain tests: accounts, usage, health scores, offers, catalogue files and a SQLite database."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell import conversations as log
from keepwell import staff
from keepwell.accounts import Account, Usage
from keepwell.db import make_engine, session_factory, upgrade
from keepwell.health import HealthScore
from keepwell.models import Customer, UsageSnapshot
from keepwell.offer_catalogue import Condition, Eligibility, Offer
from keepwell.staff import StaffView

TODAY = date(2025, 6, 1)


# Argon2 at its production cost takes about 0.4 s a hash on these machines; tests check behaviour, not cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff, "_hasher", FAST_HASHER)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty app database on each backend: a SQLite file, and the PostgreSQL the scale-out path runs on."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(database: Engine) -> Engine:
    """The `database` fixture (SQLite and PostgreSQL) at the migrations' head."""
    upgrade(database)
    return database


@pytest.fixture
def db(migrated: Engine) -> Iterator[Session]:
    """A session on the migrated database, on each backend."""
    with session_factory(migrated)() as session:
        yield session


@pytest.fixture
def make_usage() -> Callable[..., Usage]:
    """Usage for a 20-seat account that scores 100 on every component; override fields to move one."""

    def _make(**overrides: Any) -> Usage:
        usage = Usage(
            period_end=TODAY,
            logins=400,  # 20 per active user: the login-frequency ceiling
            active_users=20,
            feature_adoption=1.0,
            support_tickets=0,
            nps=10,
            csat=5.0,
        )
        return replace(usage, **overrides)

    return _make


@pytest.fixture
def make_account(make_usage: Callable[..., Usage]) -> Callable[..., Account]:
    """A Growth account with 20 of 20 seats used and perfect usage unless overridden (`usage=None` for none)."""

    def _make(**overrides: Any) -> Account:
        account = Account(
            id="cus_test",
            name="Bluefin Logistics",
            plan="growth",
            company_size="mid",
            lifecycle_stage="adoption",
            mrr=480.0,
            seats_purchased=20,
            seats_used=20,
            signup_date=date(2024, 1, 15),
            renewal_date=date(2026, 1, 15),
            usage=make_usage(),
        )
        return replace(account, **overrides)

    return _make


@pytest.fixture
def make_health() -> Callable[..., HealthScore]:
    """A health score with a band and a plausible score for that band."""

    def _make(band: str, score: int | None = None) -> HealthScore:
        default = {"green": 80, "yellow": 55, "red": 25}[band]
        return HealthScore(score=default if score is None else score, band=band)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def make_offer() -> Callable[..., Offer]:
    """An offer open to everyone unless eligibility fields (plans, bands, conditions ...) are overridden."""

    def _make(offer_id: str = "offer", kind: str = "cross_sell", **overrides: Any) -> Offer:
        eligibility_fields = {"plans", "company_sizes", "lifecycle_stages", "bands", "conditions"}
        rules = {k: overrides.pop(k) for k in list(overrides) if k in eligibility_fields}
        if "conditions" in rules:
            rules["conditions"] = tuple(Condition(*c) if isinstance(c, tuple) else c for c in rules["conditions"])
        return Offer(
            id=offer_id,
            kind=kind,  # type: ignore[arg-type]
            title=overrides.pop("title", f"Title of {offer_id}"),
            pitch=overrides.pop("pitch", "A short pitch."),
            url=overrides.pop("url", "/help/features/automations"),
            eligibility=Eligibility(**{k: tuple(v) for k, v in rules.items()}),
            **overrides,
        )

    return _make


@pytest.fixture
def offer_entry() -> Callable[..., dict[str, Any]]:
    """A valid catalogue-file entry as a dict, for building YAML files."""

    def _make(**overrides: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": "addon-test",
            "kind": "cross_sell",
            "title": "A test add-on",
            "pitch": "It helps.",
            "url": "/help/features/automations",
            "eligible": {"plans": ["growth"], "bands": ["green"]},
        }
        entry.update(overrides)
        return entry

    return _make


@pytest.fixture
def write_catalogue(tmp_path: Path) -> Callable[[Any], Path]:
    """Write a catalogue (a dict, dumped as YAML, or raw text) to a file and return its path."""

    def _write(content: Any) -> Path:
        path = tmp_path / "offers.yml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return path

    return _write


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def add_customer(session: Session) -> Callable[..., Customer]:
    """Insert a customer (and optional usage rows given as dicts of UsageSnapshot fields) and flush."""

    def _add(customer_id: str = "cus_001", usage: list[dict[str, Any]] | tuple[()] = (), **overrides: Any) -> Customer:
        fields: dict[str, Any] = {
            "name": "Copperleaf Studios",
            "plan": "starter",
            "company_size": "small",
            "lifecycle_stage": "adoption",
            "mrr": 100.0,
            "seats_purchased": 10,
            "seats_used": 8,
            "signup_date": date(2024, 3, 1),
            "renewal_date": date(2026, 3, 1),
        }
        fields.update(overrides)
        customer = Customer(id=customer_id, **fields)
        session.add(customer)
        session.flush()
        for row in usage:
            snapshot: dict[str, Any] = {
                "logins": 100,
                "active_users": 6,
                "feature_adoption": 0.5,
                "support_tickets": 1,
                "nps": 8,
                "csat": 4.0,
            }
            snapshot.update(row)
            session.add(UsageSnapshot(customer_id=customer_id, **snapshot))
            session.flush()  # one flush per row so ids follow insertion order
        return customer

    return _add


@pytest.fixture
def csm(db: Session) -> StaffView:
    """A CSM (Ada Lovelace) on the migrated database."""
    user = staff.create(db, "ada@example.test", "a long enough password", display_name="Ada Lovelace")
    db.commit()
    return user


@pytest.fixture
def conversation(db: Session) -> Callable[..., str]:
    """A logged conversation of the given customer (None: an anonymous visitor; in-app when signed in), with its
    account named `name` and owned by `owner` (no account row when `name` is empty)."""

    def _make(customer_id: str | None = None, owner: StaffView | None = None, name: str = "Bluefin") -> str:
        if customer_id is not None and name:
            db.add(
                Customer(
                    id=customer_id, name=name, plan="growth", company_size="mid", lifecycle_stage="adoption",
                    mrr=480.0, seats_purchased=20, seats_used=20, signup_date=date(2024, 1, 15),
                    renewal_date=date(2026, 1, 15), owner_csm_id=owner.id if owner else None,
                )
            )  # fmt: skip
        ref = log.start_conversation(db, customer_id, "in_app" if customer_id else "website")
        db.commit()
        return ref.id

    return _make
