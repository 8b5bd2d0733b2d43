"""Gateway test fixtures: an app on a temporary data directory with a stand-in Rasa, its databases, a signed-in CSM."""

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from api.main import create_app
from api.settings import Settings
from keepwell import staff
from keepwell.bootstrap import DEMO_CSM, prepare
from keepwell.db import get_engine, session_factory
from tests.api.fakes import FakeRasa

IDENTITY_SECRET = "api-test-identity-secret-of-32-bytes"  # HS256 wants 32 bytes or more
CSM_USERNAME, CSM_PASSWORD = DEMO_CSM

# The `events` table exactly as Rasa 3.6's SQLTrackerStore creates it (rasa.core.tracker_store.SQLEvent), written
# out here rather than taken from the gateway's own Table so a drift between the two would fail the tests.
_RASA_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER NOT NULL PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class TrackerEvents:
    """Writes conversation events into the tracker-store database the way Rasa's SQL tracker store does."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(url)
        self._clock = 1_767_225_600.0  # 2026-01-01 00:00 UTC; each event is a few seconds after the previous one
        with self._engine.begin() as connection:
            connection.execute(text(_RASA_EVENTS_DDL))
            connection.execute(text("CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id)"))

    def close(self) -> None:
        self._engine.dispose()

    def _write(self, sender: str, type_name: str, data: dict[str, Any], intent: str | None, action: str | None) -> None:
        self._clock += 5.0
        data = {"event": type_name, "timestamp": self._clock, **data}
        with self._engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:sender, :type_name, :timestamp, :intent, :action, :data)"
                ),
                {
                    "sender": sender,
                    "type_name": type_name,
                    "timestamp": self._clock,
                    "intent": intent,
                    "action": action,
                    "data": json.dumps(data),
                },
            )

    def session_start(self, sender: str) -> None:
        """What Rasa logs before the first message: action_session_start, session_started, action_listen."""
        self.action(sender, "action_session_start")
        self._write(sender, "session_started", {}, None, None)
        self.action(sender, "action_listen")

    def slot(self, sender: str, name: str, value: Any) -> None:
        self._write(sender, "slot", {"name": name, "value": value}, None, None)

    def action(self, sender: str, name: str) -> None:
        self._write(sender, "action", {"name": name, "policy": None, "confidence": 1.0}, None, name)

    def user(
        self, sender: str, message: str, intent: str, confidence: float, metadata: dict[str, Any] | None = None
    ) -> None:
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": message,
            "message_id": "0" * 32,
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        data = {
            "text": message,
            "parse_data": parse_data,
            "input_channel": "rest",
            "message_id": "0" * 32,
            "metadata": metadata or {},
        }
        self._write(sender, "user", data, intent, None)

    def bot(
        self,
        sender: str,
        message: str,
        buttons: list[dict[str, str]] | None = None,
        sources: list[dict[str, str]] | None = None,
    ) -> None:
        payload = {
            "elements": None,
            "quick_replies": None,
            "buttons": buttons,
            "attachment": None,
            "image": None,
            "custom": {"sources": sources} if sources else None,
        }
        self._write(sender, "bot", {"text": message, "data": payload, "metadata": {}}, None, None)


# Argon2 at its production cost takes about 0.4 s a hash on these machines; tests check behaviour, not cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff, "_hasher", FAST_HASHER)


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
    )


@pytest.fixture
def app(settings: Settings, rasa: FakeRasa) -> FastAPI:
    return create_app(settings, rasa=rasa)


@pytest.fixture(scope="session")
def _prepared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo database prepared once per run (filled by `client` on first use, under the fast password hasher)."""
    return {}


def _copy_prepared(settings: Settings, cache: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    # Seeding a year of weekly demo usage and its health snapshots takes about a second; hundreds of app tests each
    # start from the same prepared file instead. `prepare` still runs on the copy (and finds nothing to do).
    target = settings.data_dir / "keepwell.db"
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if "demo" not in cache:
        template = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("prepared")})
        prepare(template)
        get_engine(template.resolved_database_url).dispose()
        cache["demo"] = template.data_dir / "keepwell.db"
    with sqlite3.connect(cache["demo"]) as source, sqlite3.connect(target) as copy:
        source.backup(copy)  # consistent even with the template in WAL mode
    copy.close()
    source.close()


@pytest.fixture
def client(
    app: FastAPI, _prepared_sqlite: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A client with the app started on a prepared database (migrated, demo data and demo logins seeded)."""
    settings = app.state.settings
    if settings.database_url is None and settings.demo_mode:
        _copy_prepared(settings, _prepared_sqlite, tmp_path_factory)
    prepare(settings)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(app: FastAPI, client: TestClient) -> Iterator[Session]:
    """A session on the app's domain database (once the app has started); tests commit what the app should see."""
    session = session_factory(app.state.engine)()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def tracker(client: TestClient, settings: Settings) -> Iterator[TrackerEvents]:
    events = TrackerEvents(settings.resolved_tracker_store_url)
    try:
        yield events
    finally:
        events.close()


@pytest.fixture
def csrf_of() -> Callable[[TestClient, str], str]:
    """Open a page and return the CSRF token its forms carry."""

    def read(test_client: TestClient, path: str) -> str:
        response = test_client.get(path)
        assert response.status_code == 200, response.text
        match = _CSRF_FIELD.search(response.text)
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    return read


@pytest.fixture
def csm_client(client: TestClient, csrf_of: Callable[[TestClient, str], str]) -> TestClient:
    """The client signed in to the console as the demo CSM (keepwell.bootstrap.DEMO_CSM)."""
    token = csrf_of(client, "/console/login")
    response = client.post(
        "/console/login",
        data={"username": CSM_USERNAME, "password": CSM_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client
