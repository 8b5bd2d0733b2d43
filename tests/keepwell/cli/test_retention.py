"""keepwell/cli/retention.py: `python -m keepwell retention` deletes conversations past KEEPWELL_RETENTION_DAYS and
audits the run, `--dry-run` only counts, and retention off (0 or unset) deletes nothing."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from keepwell import audit
from keepwell.cli import main
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import Conversation, utcnow
from keepwell.settings import get_core_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database with one conversation of 40 days ago and one of yesterday (no tracker store yet)."""
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEEPWELL_RETENTION_DAYS", raising=False)
    get_core_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        for conversation_id, days in (("old", 40), ("new", 1)):
            at = utcnow() - timedelta(days=days)
            session.add(Conversation(id=conversation_id, created_at=at, last_message_at=at))
    yield engine
    engine.dispose()
    get_core_settings.cache_clear()


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Conversation)) or 0


def test_off_by_default(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention"]) == 0
    assert "Retention is off" in capsys.readouterr().out
    assert _count(database) == 2


def test_dry_run_then_run(
    database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_RETENTION_DAYS", "30")
    get_core_settings.cache_clear()
    assert main(["retention", "--dry-run"]) == 0
    assert "1 conversations due, would delete 1" in capsys.readouterr().out
    assert _count(database) == 2

    assert main(["retention", "--quiet"]) == 0
    assert "1 conversations due, deleted 1" in capsys.readouterr().out
    assert _count(database) == 1
    with session_scope(database) as session:
        [entry] = audit.list_events(session, action="retention.run").items
    assert (entry.actor, entry.detail["conversations"], entry.detail["days"]) == ("cli", 1, 30)


def test_days_on_the_command_line(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--days", "0"]) == 2
    assert main(["retention", "--days", "60", "--quiet"]) == 0
    assert "0 conversations due" in capsys.readouterr().out
