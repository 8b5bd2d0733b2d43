"""Benchmark reports: our rows beside published ones in a Markdown table, with what ran where, written to results/."""

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .metrics import Evaluation, Scores, ThresholdChoice, latency_summary


@dataclass(frozen=True)
class Column:
    """A table column: `key` in a row's values, its header, and how values print."""

    key: str
    header: str
    kind: str  # "percent", "ratio", "threshold", "seconds", "ms" or "count"


# Every column a report may show, in table order; a table shows those some row has a value for.
COLUMNS: tuple[Column, ...] = (
    Column("in_scope_accuracy", "In-scope acc. %", "percent"),
    Column("oos_recall", "OOS recall %", "percent"),
    Column("id_oos_recall", "ID-OOS recall %", "percent"),
    Column("ood_oos_recall", "OOD-OOS recall %", "percent"),
    Column("mcc", "MCC", "ratio"),
    Column("accuracy", "Accuracy %", "percent"),
    Column("macro_f1", "Macro F1 %", "percent"),
    Column("top1", "Top-1 %", "percent"),
    Column("section_top1", "Section top-1 %", "percent"),
    Column("typo_top1", "Misspelt top-1 %", "percent"),
    Column("recall_at_3", "Recall@3 %", "percent"),
    Column("mrr", "MRR", "ratio"),
    Column("unanswerable_refused", "Unanswerable refused %", "percent"),
    Column("wrong_rate", "Answered wrongly %", "percent"),
    Column("fallback_rate", "nlu_fallback %", "percent"),
    Column("threshold", "Threshold", "threshold"),
    Column("train_seconds", "Train s", "seconds"),
    Column("latency_p50_ms", "p50 ms", "ms"),
    Column("latency_p95_ms", "p95 ms", "ms"),
    Column("budget_ms", "Budget ms", "ms"),
    Column("rows", "Rows", "count"),
    Column("wall_seconds", "Wall s", "seconds"),
    Column("cpu_seconds", "CPU s", "seconds"),
    Column("rows_per_second", "Rows/s", "count"),
    Column("budget_seconds", "Budget s", "seconds"),
)
_COLUMN_KEYS = {column.key for column in COLUMNS}


@dataclass(frozen=True)
class Row:
    """One system's results. A value of None prints as "none" (no threshold) or "–" (not measured).

    `decimals` is the precision of percentages: published rows keep the precision of their source.
    """

    system: str
    source: str
    values: Mapping[str, float | None]
    decimals: int = 2

    def __post_init__(self) -> None:
        unknown = set(self.values) - _COLUMN_KEYS
        if unknown:
            raise ValueError(f"unknown columns {sorted(unknown)}; known: {sorted(_COLUMN_KEYS)}")


@dataclass
class BenchmarkResult:
    """What one benchmark measured: our rows plus the setup and notes to print with them."""

    dataset: str
    kind: str
    title: str
    rows: list[Row]
    setup: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunInfo:
    """Where and how a benchmark ran."""

    started: datetime
    seconds: float
    command: str
    machine: str
    commit: str


def classifier_rows(
    system: str,
    evaluation: Evaluation,
    train_seconds: float | None,
    latencies_ms: Sequence[float],
    extra: Mapping[str, float | None] | None = None,
) -> list[Row]:
    """Rows for a classifier: at the validation-chosen threshold, and (when one was chosen) without any.

    Args:
        system: the system's name in the table.
        evaluation: test scores from `metrics.evaluate`.
        train_seconds: wall time of training (or index building).
        latencies_ms: per-query latencies measured one query at a time.
        extra: more values for every row (properties of the model, not of the threshold).
    """
    p50, p95 = latency_summary(latencies_ms) if latencies_ms else (None, None)
    common = {"train_seconds": train_seconds, "latency_p50_ms": p50, "latency_p95_ms": p95}
    choice: ThresholdChoice = evaluation.choice
    rows = [
        Row(
            f"{system}, threshold chosen on validation" if choice.threshold is not None else system,
            "this run",
            {**_score_values(evaluation.with_threshold), "threshold": choice.threshold, **common, **(extra or {})},
        )
    ]
    if choice.threshold is not None:
        rows.append(
            Row(
                f"{system}, no threshold",
                "this run",
                {**_score_values(evaluation.without_threshold), "threshold": None, **common, **(extra or {})},
            )
        )
    return rows


def _score_values(scores: Scores) -> dict[str, float | None]:
    if scores.oos_recall is None:
        return {"accuracy": scores.accuracy, "macro_f1": scores.macro_f1}
    return {"in_scope_accuracy": scores.in_scope_accuracy, "oos_recall": scores.oos_recall, "macro_f1": scores.macro_f1}


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of `rows`, with the columns that at least one row has a value for."""
    columns = [column for column in COLUMNS if any(row.values.get(column.key) is not None for row in rows)]
    if any("threshold" in row.values for row in rows) and not any(c.key == "threshold" for c in columns):
        columns.append(next(column for column in COLUMNS if column.key == "threshold"))
        columns.sort(key=COLUMNS.index)
    header = ["System", "Source", *(column.header for column in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * len(columns)) + "|"]
    for row in rows:
        cells = [_escape(row.system), _escape(row.source)]
        cells += [_format(row.values.get(column.key), column, row, column.key in row.values) for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(result: BenchmarkResult, published: Sequence[Row], run: RunInfo, published_notes: Sequence[str]) -> str:
    """The whole Markdown report."""
    minutes, seconds = divmod(round(run.seconds), 60)
    lines = [
        f"# {result.title}",
        "",
        f"- **Date:** {run.started.strftime('%Y-%m-%d %H:%M %Z').strip()}",
        f"- **Machine:** {run.machine}",
        f"- **Commit:** {run.commit}",
        f"- **Command:** `{run.command}`",
        f"- **Wall time:** {minutes} min {seconds} s",
        "",
        "## Results",
        "",
        table([*result.rows, *published]),
        "",
    ]
    if not published:
        lines += ["No published results for this dataset.", ""]
    if result.setup:
        lines += ["## Setup", "", *(f"- {line}" for line in result.setup), ""]
    notes = [*result.notes, *published_notes]
    if notes:
        lines += ["## Notes", "", *(f"- {line}" for line in notes), ""]
    return "\n".join(lines)


def write_report(
    result: BenchmarkResult,
    published: Sequence[Row],
    run: RunInfo,
    results_dir: Path,
    published_notes: Sequence[str] = (),
) -> Path:
    """Write `<results_dir>/<dataset>-<kind>.md` (replacing the previous run's) and return its path."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.dataset}-{result.kind}.md"
    path.write_text(render(result, published, run, published_notes), encoding="utf-8")
    return path


def machine_description() -> str:
    """Cores, CPU model, memory (from /proc) and the load average now: other jobs make timings noisy."""
    cpu = _proc_field(Path("/proc/cpuinfo"), "model name")
    memory_kb = _proc_field(Path("/proc/meminfo"), "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024**2:.1f} GiB memory" if memory_kb else "memory unknown"
    try:
        load = " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        load = "unknown"
    cores = f"{os.cpu_count()} cores" + (f" ({cpu})" if cpu else "")
    return f"{cores}, {memory}; load average {load} at start"


def git_commit(repo: Path) -> str:
    """The short commit hash, marked "(dirty)" when the work tree differs from it; read-only git commands only."""
    git = shutil.which("git")
    if git is None:
        return "unknown (git not found)"
    try:
        head = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        # --no-optional-locks: a status must not rewrite the index while the lead may be committing.
        status = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "--no-optional-locks", "-C", str(repo), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout, or no commit yet)"
    return f"{head} (dirty)" if status else head


def _proc_field(path: Path, name: str) -> str:
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return ""


def _format(value: float | None, column: Column, row: Row, present: bool) -> str:
    if value is None:
        return "none" if column.kind == "threshold" and present else "–"
    if column.kind == "percent":
        return f"{value:.{row.decimals}f}"
    if column.kind in ("ratio", "threshold"):
        return f"{value:.3f}"
    if column.kind == "count":
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
