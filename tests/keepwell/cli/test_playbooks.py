"""keepwell/cli/playbooks.py: `playbooks check` names the file and line of a bad file; `playbooks run` detects
signals and raises tasks once."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from keepwell.cli import main
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import ChurnSignal, CSMTask, Customer
from keepwell.settings import get_core_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database (KEEPWELL_DATA_DIR), migrated, with one account using 2 of its 20 seats."""
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEEPWELL_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("KEEPWELL_PLAYBOOKS_FILE", raising=False)
    get_core_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(Customer(id="cus_idle", name="Idle Inc", plan="growth", company_size="mid",
                             lifecycle_stage="mature", mrr=480.0, seats_purchased=20, seats_used=2,
                             signup_date=date(2024, 1, 1), renewal_date=date(2026, 1, 1)))  # fmt: skip
    yield engine
    engine.dispose()
    get_core_settings.cache_clear()


def test_check_lists_the_bundled_playbooks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbooks", "check"]) == 0
    assert "turned-red" in capsys.readouterr().out


def test_check_refuses_a_bad_file_naming_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "playbooks:\n  - id: x\n    trigger: {type: renewal_within, days: 900}\n    actions: [{type: webhook}]\n"
    )
    assert main(["playbooks", "check", str(path)]) == 1
    assert f"{path}:3:" in capsys.readouterr().err


def test_run_detects_signals_and_raises_the_task_once(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbooks", "run", "--date", "2025-06-01"]) == 0
    assert main(["playbooks", "run", "--date", "2025-06-01"]) == 0
    out = capsys.readouterr().out
    assert "1 opened" in out and "1 tasks created" in out and "0 tasks created" in out
    with session_scope(database) as session:
        assert [s.kind for s in session.scalars(select(ChurnSignal))] == ["idle_seats"]
        [task] = session.scalars(select(CSMTask)).all()
        assert task.title == "Seats unused at Idle Inc"
