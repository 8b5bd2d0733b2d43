"""`python -m knowledge_base`: argument errors in-process, and build + search with the real MiniLM model."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge_base.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "KEEPWELL_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [sys.executable, "-m", "knowledge_base", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "   "], "the question must not be empty"),
        (["search", "invoices", "-k", "0"], "-k must be at least 1"),
        (["search", "invoices", "-k", "three"], "invalid int value"),
        (["search"], "the following arguments are required: query"),
        ([], "the following arguments are required: COMMAND"),
        (["rebuild"], "invalid choice: 'rebuild'"),
    ],
)
def test_bad_input_exits_with_2_and_says_why(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_content_dir_exits_with_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--content-dir", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "index"), "build"])

    assert code == 1
    assert "error: knowledge-base content directory not found" in capsys.readouterr().err


def test_build_search_and_stats_with_the_real_model(
    tmp_path: Path, content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "index"
    dirs = ["--content-dir", str(content_dir), "--index-dir", str(index_dir)]

    built = _run(*dirs, "build", tmp_path=tmp_path)

    assert built.returncode == 0, built.stderr
    assert "Built the index: 3 articles, 8 chunks" in built.stdout
    # The progress bar: the 8 chunks plus one row per sentence (12), every row the index holds.
    assert "Encoding passages" in built.stderr and "20/20" in built.stderr
    assert (index_dir / "index.faiss").is_file()

    # A threshold no answer reaches: the ranking is still shown, followed by the refusal.
    searched = _run(*dirs, "search", "Where can I download last month's invoice?", "-k", "2", tmp_path=tmp_path,
                    KEEPWELL_KB_MIN_SCORE="0.99")  # fmt: skip

    assert searched.returncode == 0, searched.stderr
    lines = searched.stdout.splitlines()
    assert lines[0].startswith("1. [0.") and "Download invoices" in lines[0]
    assert lines[1].strip().startswith("/help/billing/download-invoices")  # with the section's anchor, if any
    assert sum(line[:3] in {"1. ", "2. ", "3. "} for line in lines) == 2
    assert lines[-1].startswith("No confident answer (best score 0.") and "< threshold 0.99" in lines[-1]
    assert "index rebuilt" not in searched.stderr

    assert main([*dirs, "stats"]) == 0
    stats = capsys.readouterr().out
    assert "articles: 3" in stats and "chunks: 20" in stats  # index rows: chunks and their sentence rows
    assert "dimension: 384" in stats and "index_kind: faiss" in stats
    assert "content_up_to_date: True" in stats and "model_matches: True" in stats
