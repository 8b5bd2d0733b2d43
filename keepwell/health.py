"""Account health: an account's facts scored by the scorecard that fits it (`keepwell/scorecards.yml`).

There is one scoring path, `evaluate(facts, scorecard)`: the recompute (`keepwell.recompute`) feeds it facts read in
bulk from every table, and `score(account)` feeds it what an `Account` carries (its latest usage snapshot, seats and
renewal date) for callers without a database session.

- Each measure of the scorecard turns its raw value into points 0..100 by its scheme; 50 is "neither helping nor
  hurting". A measure without data is left out and the remaining weights are renormalised to add up to 1.
- The score is the weighted sum of points rounded to a whole number (half up); the scorecard's bands name its band.
- The *drivers* are the measures that move the score most away from neutral, i.e. the largest
  |(points - 50) x weight|, each "up" (points >= 50, lifting the score) or "down" (dragging it), with the fact in
  plain words ("38 of 40 seats in use"); ties keep the scorecard's order. `drivers` holds the top three.
- An account without any usage snapshot yet (typically just signed up) is **not** scored red: nothing says it is
  unhealthy, and red blocks every upsell and alarms a CSM for no reason. It gets the neutral score 50 (kept inside
  the yellow band for custom thresholds), band yellow, no components, and a single driver "no usage data yet"
  marked "down" so a CSM knows to look.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from keepwell import scorecards
from keepwell.accounts import Account
from keepwell.scorecards import MEASURES, MIN_SEATS_FOR_SUPPORT_LOAD, Bands, Facts, Scorecard, ScorecardBook

Band = Literal["green", "yellow", "red"]
Direction = Literal["up", "down"]
Trend = Literal["up", "down", "flat"]

__all__ = [
    "COMPONENT_LABELS",
    "MIN_SEATS_FOR_SUPPORT_LOAD",
    "NO_USAGE_LABEL",
    "Component",
    "Driver",
    "HealthScore",
    "band_for",
    "evaluate",
    "facts_of",
    "score",
    "trend_between",
]

COMPONENT_LABELS: dict[str, str] = {key: measure.label for key, measure in MEASURES.items()}
NO_USAGE_LABEL = "no usage data yet"
NEUTRAL = 50.0
DRIVER_COUNT = 3


@dataclass(frozen=True)
class Component:
    """One scored measure: `value` its points 0..100 (one decimal), the renormalised weight it carries, its raw
    value and the fact in plain words."""

    name: str
    label: str
    value: float
    weight: float
    raw: float | str | None = None
    text: str = ""


@dataclass(frozen=True)
class Driver:
    """A measure that moves the score: "up" lifts it, "down" drags it; `text` says the fact in plain words."""

    label: str
    value: float
    direction: Direction
    measure: str = ""
    text: str = ""


@dataclass(frozen=True)
class HealthScore:
    """An account's health: score 0..100, its band, every component and the top drivers; from a snapshot also
    the day, and the trend against the previous snapshot."""

    score: int
    band: Band
    components: list[Component] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    scorecard: str = ""
    ranked: list[Driver] = field(default_factory=list)  # every measure as a driver, strongest first
    as_of: date | None = None
    trend: Trend | None = None  # None: no earlier snapshot to compare with
    previous_score: int | None = None

    @property
    def lifts(self) -> list[Driver]:
        return [d for d in self.ranked if d.direction == "up"]

    @property
    def drags(self) -> list[Driver]:
        return [d for d in self.ranked if d.direction == "down"]


def band_for(score: int, bands: Bands | None = None) -> Band:
    """The band of a score under thresholds (each threshold belongs to the higher band); default: the file's."""
    return (bands or scorecards.bundled().bands).of(score)


def trend_between(current: int, previous: int | None, flat_within: int) -> Trend | None:
    """Up, down or flat against the previous score (flat within `flat_within` points); None without one."""
    if previous is None:
        return None
    if abs(current - previous) <= flat_within:
        return "flat"
    return "up" if current > previous else "down"


def facts_of(account: Account, today: date | None = None) -> Facts:
    """What an `Account` itself tells: seats, dates and its latest usage snapshot (surveys as the snapshot has them)."""
    usage = account.usage
    return Facts(
        as_of=today or date.today(),
        seats_purchased=account.seats_purchased,
        seats_used=account.seats_used,
        signup_date=account.signup_date,
        renewal_date=account.renewal_date,
        period_days=None if usage is None else usage.period_days,
        logins=None if usage is None else usage.logins,
        active_users=None if usage is None else usage.active_users,
        feature_adoption=None if usage is None else usage.feature_adoption,
        features=None if usage is None else usage.features,
        tickets=None if usage is None else round(usage.support_tickets * 30 / max(usage.period_days, 1)),
        csat=None if usage is None else usage.csat,
        nps=None if usage is None else usage.nps,
    )


def score(
    account: Account,
    scorecard: Scorecard | None = None,
    *,
    today: date | None = None,
    book: ScorecardBook | None = None,
) -> HealthScore:
    """Score an account from what it carries, with `scorecard` or the one of `book` (default: bundled) that fits."""
    book = book or scorecards.bundled()
    facts = facts_of(account, today)
    chosen = scorecard or book.for_account(account, facts)
    return evaluate(facts, chosen, book.bands_of(chosen))


def evaluate(facts: Facts, scorecard: Scorecard, bands: Bands) -> HealthScore:
    """Score an account's facts with a scorecard; see the module docstring."""
    if not facts.has_usage:
        return _neutral(scorecard, bands)
    scored: list[tuple[str, float, float, float | str]] = []
    for key, rule in scorecard.measures.items():
        raw = MEASURES[key].value(facts)
        points = None if raw is None else rule.points(raw)
        if raw is not None and points is not None:
            scored.append((key, points, rule.weight, raw))
    total_weight = sum(weight for _, _, weight, _ in scored)
    components = [
        Component(
            name=key,
            label=MEASURES[key].label,
            value=round(points, 1),
            weight=weight / total_weight,
            raw=raw,
            text=MEASURES[key].describe(facts, raw),
        )
        for key, points, weight, raw in scored
    ]
    if not components:
        # Usage, but no measure this scorecard weighs has data: nothing says either way.
        return _neutral(scorecard, bands)
    total = math.floor(sum(c.value * c.weight for c in components) + 0.5)
    total = min(max(total, 0), 100)
    ranked = _ranked(components)
    return HealthScore(
        score=total,
        band=bands.of(total),
        components=components,
        drivers=ranked[:DRIVER_COUNT],
        ranked=ranked,
        scorecard=scorecard.id,
    )


def _neutral(scorecard: Scorecard, bands: Bands) -> HealthScore:
    neutral = int(min(max(NEUTRAL, bands.yellow), bands.green - 1))
    no_usage = Driver(label=NO_USAGE_LABEL, value=NEUTRAL, direction="down", text=NO_USAGE_LABEL)
    return HealthScore(score=neutral, band="yellow", drivers=[no_usage], ranked=[no_usage], scorecard=scorecard.id)


def _ranked(components: list[Component]) -> list[Driver]:
    # sorted() is stable, so equal impacts keep the scorecard's order.
    ordered = sorted(components, key=lambda c: abs((c.value - NEUTRAL) * c.weight), reverse=True)
    return [
        Driver(
            label=c.label, value=c.value, direction="up" if c.value >= NEUTRAL else "down", measure=c.name, text=c.text
        )
        for c in ordered
    ]
