"""The gateway's daily retention run: with KEEPWELL_RETENTION_DAYS set, conversations past it are deleted a minute
after start-up and then once a day (keepwell/privacy/retention.py does the work; `python -m keepwell retention` is
the same by hand or from cron). Several gateways may each run it: a second run finds nothing left to delete."""

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from keepwell import audit
from keepwell.db import session_scope
from keepwell.models import utcnow
from keepwell.privacy import retention

logger = logging.getLogger(__name__)

FIRST_RUN_AFTER_S = 60.0
EVERY_S = 24 * 3600.0


class RetentionWorker:
    def __init__(
        self,
        engine: Engine,
        tracker_engine: Engine,
        days: int,
        first_run_after_s: float = FIRST_RUN_AFTER_S,
        every_s: float = EVERY_S,
    ) -> None:
        self._engine = engine
        self._tracker_engine = tracker_engine
        self._days = days
        self._first_run_after_s = first_run_after_s
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._days > 0

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        await asyncio.sleep(self._first_run_after_s)
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # a database hiccup must not end the loop; tomorrow's run tries again
                logger.exception("retention run failed")
            await asyncio.sleep(self._every_s)

    def run_once(self) -> retention.RetentionRun:
        run = retention.run(self._engine, self._tracker_engine, self._days, utcnow())
        if run.deleted:
            with session_scope(self._engine) as session:
                audit.record(session, audit.SYSTEM, "retention.run", "conversation", None, run.as_detail(self._days))
            logger.info("%s", run)
        return run
