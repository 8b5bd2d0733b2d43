"""`python -m keepwell recompute`: every account's segments and health on a day, then whatever else a run does.

A run reads every account's facts once, in bulk (keepwell.account_facts), and passes them through `STEPS` in order:
segments first (the scorecard an account gets depends on its stage), then health, then churn signals (red health
near the renewal reads the snapshots the health step wrote). Each step is a function of the run; adding one is one
line in `STEPS`. Playbooks are not a step: they call webhooks, so they run after the commit (keepwell/cli/recompute.py).

The caller commits: a run that fails part way writes nothing.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from keepwell import scorecards, segmentation, signals
from keepwell.account_facts import AccountFacts, read_all
from keepwell.health import HealthScore, evaluate, trend_between
from keepwell.models import Customer, HealthSnapshot
from keepwell.scorecards import ScorecardBook
from keepwell.segmentation import Segmentation, SegmentRules

Item = TypeVar("Item")


@dataclass
class Run:
    """One recompute: the day, the rules, every account's facts, and what the steps found so far."""

    session: Session
    as_of: date
    book: ScorecardBook
    rules: SegmentRules
    accounts: list[AccountFacts]
    progress: bool = False
    segments: dict[str, Segmentation] = field(default_factory=dict)
    health: dict[str, HealthScore] = field(default_factory=dict)
    signal_summary: signals.DetectionSummary | None = None

    def each(self, items: Iterable[Item], what: str) -> Iterator[Item]:
        """Iterate with a progress bar (counts, rate, time left) when the run shows progress."""
        items = list(items)
        yield from tqdm(items, desc=what, unit=" accounts", total=len(items), disable=not self.progress)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Run], Any]


def segment_accounts(run: Run) -> None:
    """Derive each account's stage, ARR band and touch model and store the ones that changed."""
    changed = []
    for account in run.each(run.accounts, "segments"):
        segments = run.rules.classify(account.plan, account.company_size, account.mrr, account.facts)
        run.segments[account.id] = segments
        stored = (account.lifecycle_stage, account.arr_band, account.touch_model)
        if stored != (segments.lifecycle_stage, segments.arr_band, segments.touch_model):
            changed.append(
                {
                    "account": account.id,
                    "stage": segments.lifecycle_stage,
                    "arr_band": segments.arr_band,
                    "touch_model": segments.touch_model,
                }
            )
    if changed:
        statement = (
            update(Customer.__table__)  # type: ignore[arg-type]
            .where(Customer.__table__.c.id == bindparam("account"))
            .values(
                lifecycle_stage=bindparam("stage"), arr_band=bindparam("arr_band"), touch_model=bindparam("touch_model")
            )
        )
        run.session.execute(statement, changed)


def score_accounts(run: Run) -> None:
    """Score every account, compare with its previous snapshot, and write the day's snapshots (replacing any)."""
    previous = _previous_scores(run.session, run.as_of)
    rows = []
    for account in run.each(run.accounts, "health"):
        profile = run.segments.get(account.id) or account
        scorecard = run.book.for_account(profile, account.facts)
        health = evaluate(account.facts, scorecard, run.book.bands_of(scorecard))
        trend = trend_between(health.score, previous.get(account.id), run.book.trend.flat_within)
        run.health[account.id] = health
        rows.append(_snapshot_row(account.id, run.as_of, health, trend))
    run.session.execute(delete(HealthSnapshot).where(HealthSnapshot.as_of == run.as_of))
    if rows:
        run.session.execute(insert(HealthSnapshot), rows)


def detect_signals(run: Run) -> None:
    """Open the churn signals that hold on the day and resolve those that no longer do."""
    run.signal_summary = signals.detect_all(run.session, run.as_of)


# Per-run steps, in order.
STEPS: list[Step] = [
    Step("segments", segment_accounts),
    Step("health", score_accounts),
    Step("signals", detect_signals),
]


def recompute(
    session: Session,
    as_of: date,
    *,
    book: ScorecardBook | None = None,
    rules: SegmentRules | None = None,
    progress: bool = False,
    steps: list[Step] | None = None,
) -> Run:
    """Run every step for every account on `as_of`; the caller commits.

    Args:
        session: an open session.
        as_of: the day scored; data after it is ignored, its snapshots replaced.
        book: the scorecards (default: the bundled file); rules: the segment rules (likewise).
        progress: show a progress bar on the terminal.
        steps: the steps to run (default: `STEPS`).

    Returns:
        The run, with each account's segments and health.
    """
    run = Run(
        session=session,
        as_of=as_of,
        book=book or scorecards.bundled(),
        rules=rules or segmentation.bundled(),
        accounts=read_all(session, as_of),
        progress=progress,
    )
    for step in STEPS if steps is None else steps:
        step.run(run)
        session.flush()
    return run


def _previous_scores(session: Session, as_of: date) -> dict[str, int]:
    latest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
        .where(HealthSnapshot.as_of < as_of)
        .group_by(HealthSnapshot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.score).join(
            latest, (HealthSnapshot.account_id == latest.c.account_id) & (HealthSnapshot.as_of == latest.c.as_of)
        )
    ).all()
    return {account_id: score for account_id, score in rows}


def _snapshot_row(account_id: str, as_of: date, health: HealthScore, trend: str | None) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "as_of": as_of,
        "scorecard": health.scorecard,
        "score": health.score,
        "band": health.band,
        "trend": trend,
        "measures": {
            c.name: {"value": c.raw, "points": c.value, "weight": round(c.weight, 4), "text": c.text}
            for c in health.components
        },
        "drivers": [
            {"measure": d.measure, "label": d.label, "text": d.text, "points": d.value, "direction": d.direction}
            for d in health.ranked
        ],
    }
