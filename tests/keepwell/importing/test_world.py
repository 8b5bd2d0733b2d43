"""keepwell/importing/world.py: the generated book of business is reproducible, imports without an error, and is
plausible: every plan, size and trend shows, and churn, retention, CSAT and NPS are all defined over its year."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from keepwell.db import session_factory
from keepwell.importing.importer import import_files
from keepwell.importing.world import generate
from keepwell.kpis import Period, book_kpis
from keepwell.models import Customer, UsageSnapshot
from keepwell.settings import CoreSettings

END = date(2025, 6, 1)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_same_seed_and_end_give_the_same_files_and_another_seed_others(tmp_path: Path) -> None:
    generate(tmp_path / "a", 30, 10, seed=7, end=END)
    generate(tmp_path / "b", 30, 10, seed=7, end=END)
    generate(tmp_path / "c", 30, 10, seed=8, end=END)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a")["usage.csv"] != _files(tmp_path / "c")["usage.csv"]


def test_weeks_end_on_sundays_up_to_the_end_date(tmp_path: Path) -> None:
    world = generate(tmp_path, 5, 3, seed=1, end=date(2025, 6, 4))  # a Wednesday
    ends = {line.split(",")[1] for line in world.files["usage"].read_text().splitlines()[1:]}
    assert ends <= {"2025-05-18", "2025-05-25", "2025-06-01"}


def test_fewer_than_one_account_or_week_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one account and one week"):
        generate(tmp_path, 0, 52, end=END)


def test_the_world_imports_cleanly_and_has_what_the_kpis_need(migrated: Engine, tmp_path: Path) -> None:
    world = generate(tmp_path / "world", 150, 52, seed=3, end=END)
    with session_factory(migrated)() as session:
        report = import_files(session, [tmp_path / "world"], today=END)
        assert report.errors == []
        session.commit()
        customers = session.scalars(select(Customer)).all()
        usage = session.execute(
            select(UsageSnapshot.customer_id, UsageSnapshot.period_end, UsageSnapshot.active_users)
        ).all()
        year = book_kpis(session, Period(start=date(2024, 6, 1), end=END), CoreSettings(demo_mode=True))
    assert len(customers) == 150 and len(usage) == world.rows["usage"]
    assert {c.plan for c in customers} == {"free", "starter", "growth", "enterprise"}
    assert {c.company_size for c in customers} == {"small", "mid", "large"}
    assert len({c.lifecycle_stage for c in customers}) >= 3
    # Trends: compare each full-year account's first and last four weeks of active users.
    by_account: dict[str, list[tuple[date, int]]] = {}
    for account_id, period_end, active in usage:
        by_account.setdefault(account_id, []).append((period_end, active))
    ratios = []
    for weeks in by_account.values():
        if len(weeks) == 52:
            active = [users for _, users in sorted(weeks)]
            ratios.append((sum(active[-4:]) + 1) / (sum(active[:4]) + 1))
    assert any(ratio < 0.6 for ratio in ratios) and any(ratio > 1.4 for ratio in ratios)
    for name in ("churn_rate", "nrr", "grr", "csat", "nps", "arpa"):
        assert year[name].value is not None, name
    assert 0 < year["churn_rate"].value < 0.3  # type: ignore[operator]
