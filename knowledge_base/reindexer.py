"""Reindexing in the background: one incremental `KnowledgeBase.build` at a time, with progress others can read.

The console starts it and polls `status()`; the KnowledgeBase (and so the embedding model) is created on the first
reindex, not when the gateway starts.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .engine import KnowledgeBase
from .results import BuildReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReindexStatus:
    """`state` is idle, running, done or failed; `encoded` of `to_encode` rows so far; `report` when done."""

    state: str = "idle"
    started_by: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    encoded: int = 0
    to_encode: int = 0
    report: BuildReport | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    def as_dict(self) -> dict[str, object]:
        report = self.report
        return {
            "state": self.state,
            "started_by": self.started_by,
            "started_at": self.started_at.isoformat(timespec="seconds") if self.started_at else None,
            "finished_at": self.finished_at.isoformat(timespec="seconds") if self.finished_at else None,
            "encoded": self.encoded,
            "to_encode": self.to_encode,
            "error": self.error,
            "report": None
            if report is None
            else {
                "rebuilt": report.rebuilt,
                "articles": report.articles,
                "chunks": report.chunks,
                "encoded": report.encoded,
                "reused": report.reused,
                "generation": report.generation,
                "seconds": round(report.seconds, 2),
            },
        }


class Reindexer:
    """Runs `build()` on the KnowledgeBase from `factory` in a daemon thread, one build at a time."""

    def __init__(self, factory: Callable[[], KnowledgeBase]) -> None:
        self._factory = factory
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()
        self._status = ReindexStatus()
        self._thread: threading.Thread | None = None
        self._again = ""  # who asked for another reindex after the running one

    def knowledge_base(self) -> KnowledgeBase:
        """The gateway's KnowledgeBase, created on first use (loading the model happens on its first search/build)."""
        with self._lock:
            if self._kb is None:
                self._kb = self._factory()
            return self._kb

    def status(self) -> ReindexStatus:
        return self._status

    def start(self, who: str, *, again: bool = False) -> bool:
        """Start a reindex unless one is running; False if one was. With `again`, a running reindex is followed by
        one more (it may have read the articles before a change its caller just made)."""
        kb = self.knowledge_base()
        with self._lock:
            if self._status.running:
                if again:
                    self._again = who
                return False
            self._status = ReindexStatus("running", who, datetime.now(UTC))
            self._thread = threading.Thread(target=self._run, args=(kb,), name="kb-reindex", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout_s: float = 30) -> ReindexStatus:
        """Block until the running reindex (and any asked for after it) ends (for the CLI and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self._status

    def _progress(self, done: int, total: int) -> None:
        self._status = replace(self._status, encoded=done, to_encode=total)

    def _run(self, kb: KnowledgeBase) -> None:
        self._build(kb)
        while True:
            with self._lock:
                who, self._again = self._again, ""
                if not who:
                    return
                self._status = ReindexStatus("running", who, datetime.now(UTC))
            self._build(kb)

    def _build(self, kb: KnowledgeBase) -> None:
        started = time.perf_counter()
        try:
            report = kb.build(on_progress=self._progress)
        except Exception as error:  # a bad article or a missing model: shown on the page, the old index stays
            logger.exception("Reindex failed")
            self._status = replace(self._status, state="failed", error=str(error), finished_at=datetime.now(UTC))
            return
        logger.info("Reindexed in %.1f s: %s", time.perf_counter() - started, report)
        self._status = replace(self._status, state="done", report=report, finished_at=datetime.now(UTC))
