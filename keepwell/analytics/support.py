"""Handoffs and CSAT over a period: how many conversations a person took, how long customers waited for the first
human reply, and how they rated the help when a person closed the conversation.

A handoff counts in the period it was requested; a CSAT answer in the period it was given.
"""

import math
from dataclasses import dataclass

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from keepwell.analytics.period import ReportPeriod
from keepwell.handoffs import KIND_LABELS
from keepwell.models import Handoff

# Upper bounds (seconds) of the waiting-time buckets; the last bucket takes the rest.
WAIT_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("under 1 min", 60),
    ("1-5 min", 5 * 60),
    ("5-15 min", 15 * 60),
    ("15-60 min", 60 * 60),
    ("1-4 h", 4 * 60 * 60),
    ("over 4 h", None),
)
CSAT_SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class HandoffStats:
    requested: int
    replied: int  # a person answered
    by_kind: dict[str, int]  # label -> count, most first
    mean_wait_s: float | None  # to the first human reply, over those replied
    median_wait_s: float | None
    p90_wait_s: float | None
    wait_buckets: dict[str, int]  # every bucket of WAIT_BUCKETS, in order


@dataclass(frozen=True)
class Csat:
    distribution: dict[int, int]  # 1..5 -> answers
    answers: int
    average: float | None  # mean score 1-5; None without answers

    @property
    def satisfied_share(self) -> float | None:
        """Answers of 4 or 5 / all (top-2-box, as the book's CSAT KPI counts survey answers)."""
        return (self.distribution[4] + self.distribution[5]) / self.answers if self.answers else None


def _requested_in(period: ReportPeriod) -> list[object]:
    return [Handoff.created_at >= period.start, Handoff.created_at < period.end]


def handoff_stats(session: Session, period: ReportPeriod) -> HandoffStats:
    requested, replied, mean_wait = session.execute(
        select(
            func.count(),
            func.sum(case((Handoff.first_reply_at.is_not(None), 1), else_=0)).cast(Integer),
            func.avg(Handoff.wait_s),
        ).where(*_requested_in(period))
    ).one()
    kinds = session.execute(
        select(Handoff.kind, func.count()).where(*_requested_in(period)).group_by(Handoff.kind)
    ).all()
    by_kind: dict[str, int] = {}
    for kind, count in sorted(kinds, key=lambda row: (-row[1], row[0])):
        label = KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
        by_kind[label] = by_kind.get(label, 0) + int(count)
    bucket = case(
        *[(Handoff.wait_s < bound, label) for label, bound in WAIT_BUCKETS if bound is not None],
        else_=WAIT_BUCKETS[-1][0],
    )
    waited = session.execute(
        select(bucket, func.count()).where(*_requested_in(period), Handoff.wait_s.is_not(None)).group_by(bucket)
    ).all()
    buckets = dict.fromkeys((label for label, _ in WAIT_BUCKETS), 0)
    buckets.update({label: int(count) for label, count in waited})
    # Percentiles need the values; a period holds at most a few thousand handoffs.
    waits = sorted(
        float(w)
        for w in session.scalars(select(Handoff.wait_s).where(*_requested_in(period), Handoff.wait_s.is_not(None)))
    )
    return HandoffStats(
        requested=int(requested),
        replied=int(replied or 0),
        by_kind=by_kind,
        mean_wait_s=None if mean_wait is None else float(mean_wait),
        median_wait_s=percentile(waits, 0.5),
        p90_wait_s=percentile(waits, 0.9),
        wait_buckets=buckets,
    )


def csat(session: Session, period: ReportPeriod) -> Csat:
    rows = session.execute(
        select(Handoff.csat_score, func.count())
        .where(Handoff.csat_at >= period.start, Handoff.csat_at < period.end, Handoff.csat_score.is_not(None))
        .group_by(Handoff.csat_score)
    ).all()
    distribution = dict.fromkeys(CSAT_SCORES, 0)
    distribution.update({int(score): int(count) for score, count in rows})
    answers = sum(distribution.values())
    average = sum(score * count for score, count in distribution.items()) / answers if answers else None
    return Csat(distribution=distribution, answers=answers, average=average)


def percentile(sorted_values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]
