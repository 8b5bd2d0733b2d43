"""The real harness end to end on smoke slices: `rasa train nlu` (1 epoch) and the FAQ matcher on CLINC150, and the
out-of-scope benchmark (pipeline, baseline and levers) on clinc-banking.

Needs `--rasa-bin` (as `make test` passes) and the shared datasets beside the repository. Reports go to a temporary
folder, never into benchmarks/results.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.oos_levers import LEVERS

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"
REQUIRED_BULLETS = ("Date", "Machine", "Commit", "Command", "Wall time")


@pytest.fixture(scope="module")
def shared_datasets() -> Path:
    if not (DATASETS / "clinc150" / "data_full.json").is_file():
        pytest.fail(f"the shared datasets are missing: expected {DATASETS / 'clinc150'}")
    return DATASETS


@pytest.fixture(scope="module")
def rasa_bin(request: pytest.FixtureRequest, shared_datasets: Path) -> str:
    rasa = request.config.getoption("--rasa-bin")
    if not rasa:
        pytest.fail("the benchmark smoke test needs --rasa-bin (the Rasa environment's rasa); run it with `make test`")
    return str(rasa)


def _run(args: list[str], tmp_path: Path) -> Path:
    """Run `python -m benchmarks ARGS --smoke` into tmp_path and return the report it wrote."""
    results = tmp_path / "results"
    argv = [sys.executable, "-m", "benchmarks", *args, "--smoke", "--work-dir", str(tmp_path / "work")]
    argv += ["--results-dir", str(results), "--datasets-root", str(DATASETS)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    completed = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = (completed.stdout + completed.stderr)[-6000:]
    assert completed.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    reports = list(results.glob("*.md"))
    assert len(reports) == 1, f"expected one report in {results}, found {reports}\n{output}"
    assert "Report: " in completed.stdout and "| System | Source |" in completed.stdout, "the table is not printed"
    return reports[0]


def _check_report(path: Path, command: str) -> list[dict[str, str]]:
    """Assert the report's structure and return its table rows as {header: cell}."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), text[:200]
    for bullet in REQUIRED_BULLETS:
        assert re.search(rf"^- \*\*{bullet}:\*\* \S", text, flags=re.MULTILINE), f"no {bullet} line:\n{text}"
    assert command in text
    assert re.search(r"\d+ cores.*GiB memory", text)
    sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert sections[:2] == ["Results", "Setup"], sections
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)) for line in lines[1:]]
    assert rows, "the results table has no rows"
    for row in rows:
        for column, cell in row.items():
            if column.endswith("%") and cell != "–":
                assert 0 <= float(cell) <= 100, f"{column} = {cell} in {row}"
        if not row["System"].startswith("Lever:"):  # levers reuse a trained model; their latency is not measured
            assert float(row["p50 ms"]) > 0 and float(row["p95 ms"]) >= float(row["p50 ms"])
        assert float(row["Train s"]) > 0
    return rows


def test_smoke_nlu_benchmark_trains_rasa_and_writes_a_report(rasa_bin: str, tmp_path: Path) -> None:
    report = _run(["nlu", "--dataset", "clinc150", "--epochs", "1", "--rasa-bin", rasa_bin], tmp_path)

    assert report.name == "clinc150-smoke-nlu.md"
    rows = _check_report(report, "nlu --dataset clinc150 --epochs 1")
    assert [row["System"] for row in rows] == [
        "Keepwell Rasa NLU (config.yml), threshold chosen on validation",
        "Keepwell Rasa NLU (config.yml), no threshold",
    ] or [row["System"] for row in rows] == ["Keepwell Rasa NLU (config.yml)"]
    assert {"In-scope acc. %", "OOS recall %", "Macro F1 %", "nlu_fallback %", "Threshold"} <= rows[0].keys()
    text = report.read_text(encoding="utf-8")
    assert "every `epochs:` in the config and the encoder's fine-tuning set to 1" in text
    assert "`python -m nlu.finetune` tunes the sentence encoder on the train split" in text
    assert "nlu_fallback" in text and "chosen on validation" in text


def test_smoke_retrieval_benchmark_writes_a_report(shared_datasets: Path, tmp_path: Path) -> None:
    report = _run(["retrieval", "--dataset", "clinc150", "--latency-sample", "20"], tmp_path)

    assert report.name == "clinc150-smoke-retrieval.md"
    rows = _check_report(report, "retrieval --dataset clinc150")
    assert rows[0]["System"].startswith("Keepwell KB engine as FAQ matcher")
    assert {"In-scope acc. %", "OOS recall %", "Macro F1 %", "Threshold"} <= rows[0].keys()
    assert list((tmp_path / "work" / "embeddings").rglob("*.npy")), "embeddings were not cached"


def test_smoke_oos_benchmark_reports_pipeline_baseline_and_levers(rasa_bin: str, tmp_path: Path) -> None:
    report = _run(["oos", "--dataset", "clinc-banking", "--epochs", "1", "--levers", "--rasa-bin", rasa_bin], tmp_path)

    assert report.name == "clinc-banking-smoke-oos.md"
    rows = _check_report(report, "oos --dataset clinc-banking --epochs 1 --levers")
    systems = [row["System"] for row in rows]
    for system in ("Stock MiniLM nearest neighbour (baseline)", "Keepwell Rasa NLU (config.yml)"):
        ours = [name for name in systems if name.startswith(system)]
        assert ours == [f"{system}, max-MCC threshold", f"{system}, 0.5-point rule"]
    assert len([s for s in systems if s.startswith("Lever:")]) == 2 * len(LEVERS)
    assert {"In-scope acc. %", "ID-OOS recall %", "OOD-OOS recall %", "MCC", "Threshold"} <= rows[0].keys()
    for row in rows:
        assert -1 <= float(row["MCC"]) <= 1 and row["ID-OOS recall %"] != "–" and row["OOD-OOS recall %"] != "–"
