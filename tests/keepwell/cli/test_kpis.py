"""keepwell/cli/kpis.py: `python -m keepwell kpis` prints the book's, a segment's or an account's KPIs as a table or
JSON, and refuses unknown segments and accounts and an outdated database with exit code 1."""

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from keepwell import migrations
from keepwell.cli import main
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.kpis import Period
from keepwell.settings import get_core_settings
from tests.keepwell.kpis.world import fill

MAY = ["--start", "2025-05-01", "--end", "2025-06-01"]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database (KEEPWELL_DATA_DIR), migrated and holding the hand-made book."""
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEEPWELL_KPI_GROSS_MARGIN", "0.8")
    monkeypatch.delenv("KEEPWELL_KPI_ACQUISITION_COST", raising=False)
    monkeypatch.delenv("KEEPWELL_KPI_RETENTION_SPEND", raising=False)
    get_core_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        fill(session)
    yield engine
    engine.dispose()
    get_core_settings.cache_clear()


def test_the_table_shows_every_kpi_and_why_some_are_missing(
    database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kpis", *MAY]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "KPIs of the whole book (8 accounts), 2025-05-01 to 2025-06-01"
    rows = {line.split("  ")[0]: " ".join(line.split()) for line in lines[2:]}
    assert rows["MRR"] == "MRR $2,900.00 /month"
    assert rows["ARR"] == "ARR $34,800.00"
    assert rows["Churn rate (period)"] == "Churn rate (period) 25.0 %"
    assert rows["NPS"] == "NPS +25"
    assert rows["CSAT (top-2-box)"] == "CSAT (top-2-box) 66.7 %"
    assert rows["Retention cost per customer"] == "Retention cost per customer - set KEEPWELL_KPI_RETENTION_SPEND"
    assert rows["LTV (ARPA x margin / churn)"].startswith("LTV (ARPA x margin / churn) $")


def test_json_for_a_segment(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--segment", "growth", "--json", *MAY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scope"] == "segment growth"
    assert report["accounts"] == 4
    assert report["kpis"]["mrr"]["value"] == 1300.0
    assert report["kpis"]["ltv"] == {
        "label": "LTV (ARPA / churn)",
        "value": None,
        "unit": "usd",
        "note": "no customer churned, so the expected lifetime (1 / churn rate) is unbounded",
    }


def test_one_account(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--account", "acc_d", "--json", *MAY]) == 0
    assert json.loads(capsys.readouterr().out)["kpis"]["nrr"]["value"] == 0.75


def test_the_default_period_is_the_last_full_month(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--json"]) == 0
    period = Period.month_before(date.today())
    assert json.loads(capsys.readouterr().out)["period"] == {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--segment", "gold"], "error: unknown segment 'gold'"),
        (["--account", "acc_zz"], "error: no account has the id 'acc_zz'"),
        (["--start", "2025-05-01"], "error: give both --start and --end"),
        (["--start", "2025-06-01", "--end", "2025-05-01"], "error: a period ends after it starts"),
    ],
)
def test_refusals_exit_1_with_the_reason(
    database: Engine, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["kpis", *args]) == 1
    assert capsys.readouterr().err.startswith(message)


def test_an_outdated_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(tmp_path))
    get_core_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine, migrations.BASELINE)
    engine.dispose()
    try:
        assert main(["kpis"]) == 1
        assert "run `python -m keepwell db upgrade`" in capsys.readouterr().err
    finally:
        get_core_settings.cache_clear()


def test_a_segment_and_an_account_together_is_wrong_usage(database: Engine) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["kpis", "--segment", "growth", "--account", "acc_a"])
    assert exit_.value.code == 2
