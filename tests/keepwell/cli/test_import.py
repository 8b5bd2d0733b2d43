"""keepwell/cli/imports.py: `python -m keepwell import PATH…` imports files or folders in one transaction, prints
what each file wrote, exits 1 with the report (and imports nothing) when a file has errors unless
--skip-bad-rows, records the run in the audit log, and shows a progress bar only on a terminal."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from keepwell.cli import main
from keepwell.db import session_factory, upgrade
from keepwell.models import AuditEvent, Customer, UsageSnapshot
from keepwell.settings import get_core_settings

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "import"


@pytest.fixture
def app_database(database: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database (KEEPWELL_DATABASE_URL) on each backend, migrated and empty."""
    upgrade(database)
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    get_core_settings.cache_clear()
    yield database
    get_core_settings.cache_clear()


def _count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_folder_imports_and_says_what_each_file_wrote(
    app_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(SAMPLES), "--today", "2025-06-01"]) == 0
    captured = capsys.readouterr()
    assert "accounts.csv: accounts, 4 rows, 4 written" in captured.out.splitlines()
    assert "usage.csv: usage, 7 rows, 7 written" in captured.out.splitlines()
    assert captured.err == ""  # not a terminal: no progress bar
    assert (_count(app_database, Customer), _count(app_database, UsageSnapshot)) == (4, 7)
    with session_factory(app_database)() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "data.import")).one()
    assert (event.actor, event.detail["files"]["usage.csv"]) == ("cli", 7)


def test_a_file_with_errors_exits_1_with_the_report_and_imports_nothing(
    app_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "usage.csv"
    bad.write_text((SAMPLES / "usage.csv").read_text() + "acme-co,2025-06-01,7,12,3,0,11,,1,1,1,1\n")
    assert main(["import", str(SAMPLES / "accounts.csv"), str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage.csv, line 9, nps: Input should be less than or equal to 10 (got '11')" in captured.err
    assert "1 error(s), nothing was imported:" in captured.err
    assert _count(app_database, Customer) == 0 and _count(app_database, AuditEvent) == 0


def test_skip_bad_rows_imports_the_rest_and_reports_the_skipped(
    app_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "usage.csv"
    bad.write_text((SAMPLES / "usage.csv").read_text() + "ghost,2025-06-01,7,12,3,0,,,1,1,1,1\n")
    assert main(["import", str(SAMPLES / "accounts.csv"), str(bad), "--skip-bad-rows"]) == 0
    assert "usage.csv, line 9, account_id: unknown account 'ghost'" in capsys.readouterr().err
    assert (_count(app_database, Customer), _count(app_database, UsageSnapshot)) == (4, 7)


def test_the_progress_bar_shows_on_a_terminal_unless_quiet(
    app_database: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["import", str(SAMPLES)]) == 0
    assert "rows" in capsys.readouterr().err
    assert main(["import", str(SAMPLES), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_an_outdated_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEEPWELL_DATABASE_URL", raising=False)
    get_core_settings.cache_clear()
    assert main(["import", str(SAMPLES)]) == 1
    assert "python -m keepwell db upgrade" in capsys.readouterr().err
    get_core_settings.cache_clear()


def test_an_unknown_kind_is_wrong_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(SAMPLES), "--kind", "invoices"])
    assert exit_.value.code == 2
