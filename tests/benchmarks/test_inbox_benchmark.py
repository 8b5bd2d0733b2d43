"""benchmarks/inbox_benchmark.py on a few seeded conversations: every filter combination of the inbox and of the
flagged queue answers through the gateway
and is reported with its p95 and budget, and `python -m benchmarks all` includes it. No timing is asserted: the
figures belong to `make bench`."""

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from benchmarks import inbox_benchmark
from benchmarks.__main__ import _all_commands, _parser
from benchmarks.report import table
from keepwell import staff


def test_the_inbox_benchmark_reports_every_filter_and_the_transcript(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    result = inbox_benchmark.run_inbox_benchmark(tmp_path / "work", conversations=40, repeats=1, transcripts=3)
    rows = {row.system: row.values for row in result.rows}
    assert len(rows) == 1 + len(inbox_benchmark.FILTERS) + len(inbox_benchmark.QUEUE_FILTERS) + 1
    assert rows["Seed 40 conversations (seed-conversations)"]["rows"] == 800
    assert rows["Inbox first page: no filter"]["rows"] == 40
    for label, _ in inbox_benchmark.FILTERS:
        values = rows[f"Inbox first page: {label}"]
        assert values["budget_ms"] == 300.0 and values["latency_p95_ms"] is not None, label
    for label, _ in inbox_benchmark.QUEUE_FILTERS:
        values = rows[f"Flagged queue first page: {label}"]
        assert values["budget_ms"] == 300.0 and values["latency_p95_ms"] is not None, label
    queue = rows["Flagged queue first page: no filter"]["rows"]
    assert 0 < queue <= 40 and rows["Flagged queue first page: mine"]["rows"] <= queue
    assert rows["Transcript page"]["budget_ms"] == 100.0 and rows["Transcript page"]["rows"] == 3
    assert (result.dataset, result.kind) == ("keepwell", "inbox")
    assert "| Transcript page | this run |" in table(result.rows)
    assert list((tmp_path / "work").iterdir()) == []  # the database is removed


def test_all_runs_the_inbox_benchmark() -> None:
    assert ["inbox"] in _all_commands(_parser().parse_args(["all", "--rasa-bin", "rasa"]))
    assert _parser().parse_args(["inbox"]).conversations == 10_000
