"""The background reindex: one at a time, with progress and the build's report, and failures reported."""

import threading
import time
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


def test_asking_again_during_a_reindex_runs_one_more_after_it(make_kb) -> None:
    """An article saved while a reindex runs may be missed by it: `again` queues one more build (one, however
    often asked), so the change reaches the index without anyone pressing Reindex."""
    kb = make_kb()
    release, builds = threading.Event(), []
    build = kb.build

    def slow_build(**kwargs: object) -> object:
        builds.append(1)
        if len(builds) == 1:
            release.wait(10)
        return build(**kwargs)

    kb.build = slow_build
    reindexer = Reindexer(lambda: kb)
    assert reindexer.start("first")
    assert not reindexer.start("second", again=True) and not reindexer.start("third", again=True)
    assert not reindexer.start("plain")  # without `again`: nothing queued beyond what is
    release.set()
    deadline = time.monotonic() + 30
    while (len(builds) < 2 or reindexer.status().running) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = reindexer.status()
    assert builds == [1, 1] and status.state == "done" and status.started_by == "third"
