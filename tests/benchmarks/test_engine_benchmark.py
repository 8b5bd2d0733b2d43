"""benchmarks/engine_benchmark.py on a small world: it imports cleanly, reports every step with its rows and budget,
and `python -m benchmarks all` includes it. No timing is asserted: the figures belong to `make bench`."""

import sys
import types
from datetime import date
from pathlib import Path

import pytest

from benchmarks import engine_benchmark
from benchmarks.__main__ import _all_commands, _parser
from benchmarks.report import table
from keepwell.db import make_engine


def test_the_engine_benchmark_reports_each_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_benchmark, "USAGE_ROWS", 50)
    result = engine_benchmark.run_engine_benchmark(
        tmp_path / "work", accounts=40, weeks=6, seed=2, end=date(2025, 6, 1)
    )
    steps = {row.system: row.values for row in result.rows}
    assert list(steps) == [
        "Generate the world (CSV files)",
        "Import every file (SQLite, one transaction)",
        next(
            name
            for name in steps
            if name.startswith("Import ") and name.endswith("usage rows alone (the accounts already in)")
        ),
        "Book KPIs, last full month",
        "Recompute (health, segments, signals)",
    ]
    imported = steps["Import every file (SQLite, one transaction)"]
    usage = next(values for name, values in steps.items() if "usage rows alone" in name)
    assert usage["rows"] == 50 and usage["wall_seconds"] is not None  # USAGE_ROWS, set below
    assert imported["rows"] == steps["Generate the world (CSV files)"]["rows"]
    assert imported["wall_seconds"] is not None and imported["cpu_seconds"] is not None
    assert imported["budget_seconds"] == 60.0
    assert steps["Book KPIs, last full month"]["budget_seconds"] == 2.0
    assert (result.dataset, result.kind) == ("keepwell", "engine")
    assert "| Import every file (SQLite, one transaction) | this run |" in table(result.rows)
    assert list((tmp_path / "work").iterdir()) == []  # the world and its database are removed


def test_a_world_that_does_not_import_cleanly_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_generate = engine_benchmark.generate

    def broken(out: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        world = real_generate(out, *args, **kwargs)
        with (out / "usage.csv").open("a") as usage:
            usage.write("nobody,2025-05-25,7,1,1,0,,,0.5,1,1,1,1,1,1\n")
        return world

    monkeypatch.setattr(engine_benchmark, "generate", broken)
    with pytest.raises(RuntimeError, match="unknown account 'nobody'"):
        engine_benchmark.run_engine_benchmark(tmp_path, accounts=5, weeks=2, end=date(2025, 6, 1))


def test_all_runs_the_engine_benchmark_and_smoke_makes_it_small() -> None:
    args = _parser().parse_args(["all", "--rasa-bin", "rasa"])
    assert ["engine"] in _all_commands(args)
    engine = _parser().parse_args(["engine"])
    assert (engine.accounts, engine.weeks, engine.seed) == (10_000, 52, 0)


def test_the_recompute_is_timed_through_keepwell_recompute_when_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[date] = []
    stand_in = types.ModuleType("keepwell.recompute")
    stand_in.recompute = lambda session, as_of: calls.append(as_of)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keepwell.recompute", stand_in)
    monkeypatch.delattr("keepwell.recompute", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    timing = engine_benchmark.recompute_timing(engine, date(2025, 6, 1))
    engine.dispose()
    assert calls == [date(2025, 6, 1)]
    assert timing is not None and timing.wall >= 0
