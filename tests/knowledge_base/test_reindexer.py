"""The background reindex: one at a time, with progress and the build's report, and failures reported."""

from pathlib import Path

from knowledge_base.reindexer import Reindexer


def test_a_reindex_runs_in_the_background_and_reports(make_kb) -> None:
    created = []
    reindexer = Reindexer(lambda: created.append(1) or make_kb())
    assert reindexer.status().state == "idle" and created == []  # nothing is loaded before the first use

    assert reindexer.start("csm@demo.test")
    status = reindexer.wait()

    assert status.state == "done" and status.started_by == "csm@demo.test" and status.finished_at
    assert status.report is not None and status.report.rebuilt and status.report.articles == 3
    assert status.encoded == status.to_encode == status.report.encoded > 0
    assert status.as_dict()["report"]["generation"] == 1
    assert created == [1]
    assert reindexer.start("again") and reindexer.wait().report.rebuilt is False  # nothing changed


def test_a_failed_reindex_says_why(make_kb, tmp_path: Path) -> None:
    reindexer = Reindexer(lambda: make_kb(content_dir=tmp_path / "missing"))
    reindexer.start("csm")
    status = reindexer.wait()
    assert status.state == "failed" and "not found" in status.error
