"""Tracker factories (from tests/actions/data/tracker.json), a seeded database and a small knowledge base."""

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import Engine, select

from actions import services
from actions.settings import get_settings
from keepwell import assertions, demo_data
from keepwell import conversations as log
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import ConversationFlag

SECRET = "actions-test-identity-secret-of-32-bytes"
INTERNAL_SECRET = "actions-test-internal-secret-" + "0123456789abcdef" * 3  # 77 bytes: enough for HS512 too
_TRACKER = json.loads((Path(__file__).parent / "data" / "tracker.json").read_text())

TrackerFactory = Callable[..., Tracker]


@pytest.fixture
def make_tracker() -> TrackerFactory:
    """Build a Tracker whose latest user message is `text`, optionally from a customer the gateway asserted.

    `customer_id` gets the metadata the gateway sends (the id and a valid internal assertion for this conversation);
    `customer` replaces that part of the metadata with anything else, as a forged or stale message would carry.
    """

    def build(
        text: str = "how do I invite my teammates?",
        intent: str = "ask_howto",
        customer_id: str | None = None,
        slots: dict[str, Any] | None = None,
        extra_events: list[dict[str, Any]] | None = None,
        customer: object = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Tracker:
        state = copy.deepcopy(_TRACKER)
        if customer_id is not None:
            assertion = assertions.assert_customer(customer_id, state["sender_id"], INTERNAL_SECRET, 900)
            customer = {"id": customer_id, "assertion": assertion}
        metadata: dict[str, Any] = {"customer": customer}
        latest = {
            "text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
            "metadata": metadata,
        }  # fmt: skip
        state["latest_message"] = latest
        state["events"][-1] = {
            "event": "user", "timestamp": 1763800010.0, "text": text, "metadata": metadata,
            "parse_data": {"intent": latest["intent"], "entities": entities or []},
        }  # fmt: skip
        state["events"].extend(extra_events or [])
        state["slots"].update(slots or {})
        return Tracker(
            state["sender_id"], state["slots"], state["latest_message"], state["events"], state["paused"],
            state["followup_action"], state["active_loop"], state["latest_action_name"],
        )  # fmt: skip

    return build


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world, seeded once per test session (a year of weekly usage takes a few seconds); tests get copies."""
    path = tmp_path_factory.mktemp("demo") / "keepwell.db"
    db = make_engine(f"sqlite:///{path}")
    upgrade(db)
    with session_scope(db) as session:
        demo_data.seed(session)
    db.dispose()
    return path


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded_template: Path) -> Iterator[Engine]:
    """A seeded SQLite database wired into the action services, and the test secrets in settings."""
    monkeypatch.setenv("KEEPWELL_IDENTITY_SECRET", SECRET)
    monkeypatch.setenv("KEEPWELL_INTERNAL_SECRET", INTERNAL_SECRET)
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    shutil.copyfile(seeded_template, tmp_path / "keepwell.db")
    db = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    monkeypatch.setattr(services, "engine", lambda: db)
    yield db
    get_settings.cache_clear()
    db.dispose()


def open_conversation(engine: Engine, conversation_id: str, customer_id: str | None = None) -> int:
    """The conversation in the gateway's log (flags are raised only on logged conversations); returns the id of its
    first message."""
    with session_scope(engine) as session:
        accepted = log.accept(session, log.ConversationRef(conversation_id, customer_id, is_new=True), "hi", None)
        return accepted.message.id


def flags_of(engine: Engine) -> list[tuple[str, str]]:
    """The flags raised, oldest first: (reason, detail)."""
    with session_scope(engine) as session:
        return [(f.reason, f.detail) for f in session.scalars(select(ConversationFlag).order_by(ConversationFlag.id))]
