"""Report rendering: rows beside published ones, run details, and the file each run replaces."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.metrics import Prediction, evaluate
from benchmarks.published import PUBLISHED, published_rows
from benchmarks.report import (
    BenchmarkResult,
    Row,
    RunInfo,
    classifier_rows,
    git_commit,
    machine_description,
    render,
    table,
    write_report,
)

RUN = RunInfo(
    started=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    seconds=125.0,
    command="python -m benchmarks nlu --dataset clinc150 --rasa-bin /env/bin/rasa",
    machine="2 cores, 24.0 GiB memory; load average 0.1 0.2 0.3 at start",
    commit="abc1234 (dirty)",
)


def _table_rows(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def _clinc_evaluation():  # type: ignore[no-untyped-def]
    return evaluate(
        ["a", "oos"], [Prediction("a", 0.9), Prediction("a", 0.2)],
        ["a", "b", "oos"], [Prediction("a", 0.8), Prediction("a", 0.7), Prediction("a", 0.1)],
        "oos",
    )  # fmt: skip


def test_classifier_rows_give_threshold_and_no_threshold_rows_with_latency() -> None:
    rows = classifier_rows("Model", _clinc_evaluation(), 12.5, [1.0, 2.0, 3.0, 40.0], extra={"fallback_rate": 10.0})

    assert [row.system for row in rows] == ["Model, threshold chosen on validation", "Model, no threshold"]
    first, second = rows
    assert first.values["threshold"] == pytest.approx(0.55)
    assert first.values["oos_recall"] == pytest.approx(100.0)
    assert first.values["in_scope_accuracy"] == pytest.approx(50.0)
    assert second.values["threshold"] is None and second.values["oos_recall"] == pytest.approx(0.0)
    assert first.values["latency_p50_ms"] == 2.0 and first.values["latency_p95_ms"] == 40.0
    assert second.values["fallback_rate"] == 10.0
    assert "accuracy" not in first.values


def test_classifier_rows_without_oos_report_accuracy_in_one_row() -> None:
    evaluation = evaluate(
        ["a"], [Prediction("a", 0.9)], ["a", "b"], [Prediction("a", 0.9), Prediction("a", 0.9)], "oos"
    )

    rows = classifier_rows("Model", evaluation, None, [])

    assert len(rows) == 1 and rows[0].system == "Model"
    assert rows[0].values["accuracy"] == pytest.approx(50.0)
    assert "oos_recall" not in rows[0].values


def test_table_shows_only_columns_with_values_and_formats_them() -> None:
    rows = [
        Row("ours", "this run", {"accuracy": 91.234, "threshold": None, "latency_p50_ms": 4.26}),
        Row("theirs", "Paper 2020", {"accuracy": 93.66, "macro_f1": None}, decimals=2),
        Row("old", "Paper 2019", {"accuracy": 90.1}, decimals=1),
    ]

    cells = _table_rows(table(rows))

    assert cells[0] == ["System", "Source", "Accuracy %", "Threshold", "p50 ms"]
    assert cells[2] == ["ours", "this run", "91.23", "none", "4.3"]
    assert cells[3] == ["theirs", "Paper 2020", "93.66", "–", "–"]
    assert cells[4][2] == "90.1"


def test_rows_refuse_unknown_columns() -> None:
    with pytest.raises(ValueError, match="unknown columns"):
        Row("x", "y", {"acuracy": 1.0})


def test_render_puts_run_details_our_rows_and_published_rows_in_order() -> None:
    result = BenchmarkResult(
        dataset="clinc150",
        kind="nlu",
        title="clinc150: Rasa NLU",
        rows=classifier_rows("Ours", _clinc_evaluation(), 60.0, [5.0]),
        setup=["Trained on train."],
        notes=["Threshold: chosen on validation."],
    )

    markdown = render(result, published_rows("clinc150"), RUN, ["What published rows measure."])

    assert markdown.startswith("# clinc150: Rasa NLU\n")
    for expected in ("2026-01-02 03:04", RUN.machine, "abc1234 (dirty)", f"`{RUN.command}`", "2 min 5 s"):
        assert expected in markdown
    sections = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert sections == ["Results", "Setup", "Notes"]
    systems = [row[0] for row in _table_rows(markdown)[2:]]
    assert systems[:2] == ["Ours, threshold chosen on validation", "Ours, no threshold"]
    assert systems[2:] == [row.system for row in PUBLISHED["clinc150"]]
    assert "96.2" in markdown and "52.3" in markdown
    assert "- What published rows measure." in markdown


def test_render_says_when_nothing_is_published() -> None:
    result = BenchmarkResult("mine", "retrieval", "mine", [Row("Ours", "this run", {"accuracy": 50.0})])

    assert "No published results for this dataset." in render(result, [], RUN, [])


def test_write_report_replaces_the_previous_run(tmp_path: Path) -> None:
    first = BenchmarkResult("toy", "nlu", "first", [Row("Ours", "this run", {"accuracy": 10.0})])
    second = BenchmarkResult("toy", "nlu", "second", [Row("Ours", "this run", {"accuracy": 20.0})])

    write_report(first, [], RUN, tmp_path)
    path = write_report(second, [], RUN, tmp_path)

    assert path == tmp_path / "toy-nlu.md"
    assert [p.name for p in tmp_path.iterdir()] == ["toy-nlu.md"]
    assert path.read_text(encoding="utf-8").startswith("# second")


def test_published_numbers_are_the_papers() -> None:
    clinc = {row.system: row.values for row in PUBLISHED["clinc150"]}
    banking = {row.system: row.values for row in PUBLISHED["banking77"]}

    assert clinc["BERT, oos-threshold"] == {"in_scope_accuracy": 96.2, "oos_recall": 52.3}
    assert clinc["BERT, oos-train"] == {"in_scope_accuracy": 96.9, "oos_recall": 40.3}
    assert clinc["Rasa, oos-train"] == {"in_scope_accuracy": 91.5, "oos_recall": 45.3}
    assert clinc["DialogFlow, oos-train"] == {"in_scope_accuracy": 91.7, "oos_recall": 14.0}
    assert banking["BERT-Large fine-tuned (BERT-Tuned)"] == {"accuracy": 93.66}
    assert banking["USE+ConveRT"] == {"accuracy": 93.36}
    assert published_rows("my-own-data") == []


def test_machine_description_reads_cores_and_memory() -> None:
    description = machine_description()

    assert re.match(r"\d+ cores", description)
    assert "GiB memory" in description and "load average" in description


def test_git_commit_outside_a_repository_says_unknown(tmp_path: Path) -> None:
    assert git_commit(tmp_path).startswith("unknown")


def test_git_commit_of_this_repository_is_a_short_hash() -> None:
    commit = git_commit(Path(__file__).resolve().parents[2])

    assert re.fullmatch(r"[0-9a-f]{7,12}( \(dirty\))?", commit)
