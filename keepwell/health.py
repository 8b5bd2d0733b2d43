"""Account health: a documented, weighted scorecard over the latest 30-day usage snapshot.

Each component is scored 0..100 from the latest snapshot, where 50 is "neither helping nor hurting":

| component          | measures                              | 0 when                | 100 when            | weight |
|--------------------|---------------------------------------|-----------------------|---------------------|--------|
| `active_users`     | active users / seats used             | no seat holder active | every holder active | 0.25   |
| `seat_utilisation` | seats used / purchased, capped at 1   | no seat used          | every seat used     | 0.15   |
| `feature_adoption` | share of the key features in use      | none                  | all                 | 0.20   |
| `login_frequency`  | logins per active user in 30 days     | no logins             | 20 or more (daily)  | 0.15   |
| `support_load`     | tickets per seat (at least 10 seats)  | 0.3 or more per seat  | no tickets          | 0.10   |
| `sentiment`        | NPS (0..10) and CSAT (1..5), averaged | NPS 0 / CSAT 1        | NPS 10 / CSAT 5     | 0.15   |

Details:
- `support_load` divides by at least 10 seats so that one ticket from a three-person team is not a crisis;
  it falls linearly from 100 at no tickets to 0 at 0.3 tickets per seat.
- `sentiment` averages whichever of NPS and CSAT were answered; when neither was, it is a neutral 50.
- Seats over-assigned beyond those purchased count as full utilisation (100), not more.

The score is the weighted sum rounded to a whole number (half up). Bands: **green** at 70 or more, **yellow** at 40
or more, **red** below 40. The *drivers* are the three components that move the score most away from neutral, i.e.
the largest |(value - 50) x weight|, each marked "up" (value >= 50, helping) or "down" (hurting); ties keep the table
order above.

An account without any usage snapshot yet (typically just signed up) is **not** scored red: nothing says it is
unhealthy, and red blocks every upsell and cross-sell and alarms a CSM for no reason. It gets the neutral score 50
(kept inside the yellow band for custom thresholds), band yellow, no components, and a single driver "no usage data
yet" marked "down" so a CSM knows to look.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from keepwell.accounts import Account, Usage

Band = Literal["green", "yellow", "red"]
Direction = Literal["up", "down"]

# Table order above; it is also the tie-break order for drivers.
COMPONENT_LABELS: dict[str, str] = {
    "active_users": "active users",
    "seat_utilisation": "seat utilisation",
    "feature_adoption": "feature adoption",
    "login_frequency": "login frequency",
    "support_load": "support load",
    "sentiment": "customer sentiment",
}
NO_USAGE_LABEL = "no usage data yet"
NEUTRAL = 50.0
LOGINS_PER_USER_AT_FULL = 20.0
TICKETS_PER_SEAT_AT_ZERO = 0.3
MIN_SEATS_FOR_SUPPORT_LOAD = 10
DRIVER_COUNT = 3


@dataclass(frozen=True)
class Scorecard:
    """Component weights (summing to 1) and band thresholds.

    Components missing from `weights` weigh 0 but are still reported.
    """

    weights: Mapping[str, float]
    green_at: int = 70
    yellow_at: int = 40

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(COMPONENT_LABELS))
        if unknown:
            raise ValueError(f"unknown scorecard components {unknown}; known: {list(COMPONENT_LABELS)}")
        negative = sorted(name for name, weight in self.weights.items() if weight < 0)
        if negative:
            raise ValueError(f"scorecard weights must not be negative: {negative}")
        total = sum(self.weights.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"scorecard weights must sum to 1, not {total:g}")
        if not 0 < self.yellow_at < self.green_at <= 100:
            thresholds = f"yellow_at={self.yellow_at}, green_at={self.green_at}"
            raise ValueError(f"band thresholds need 0 < yellow_at < green_at <= 100, got {thresholds}")
        # A private copy, so a caller mutating its dict cannot change a validated scorecard.
        object.__setattr__(self, "weights", dict(self.weights))

    def weight(self, name: str) -> float:
        return self.weights.get(name, 0.0)


DEFAULT_SCORECARD = Scorecard(
    weights={
        "active_users": 0.25,
        "seat_utilisation": 0.15,
        "feature_adoption": 0.20,
        "login_frequency": 0.15,
        "support_load": 0.10,
        "sentiment": 0.15,
    }
)


@dataclass(frozen=True)
class Component:
    """One scored component: `value` 0..100 (one decimal) and the weight it carries."""

    name: str
    label: str
    value: float
    weight: float


@dataclass(frozen=True)
class Driver:
    """A component that moves the score most: "up" helps, "down" hurts."""

    label: str
    value: float
    direction: Direction


@dataclass(frozen=True)
class HealthScore:
    """An account's health: score 0..100, its band, every component and the top drivers."""

    score: int
    band: Band
    components: list[Component] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)


def band_for(score: int, scorecard: Scorecard = DEFAULT_SCORECARD) -> Band:
    """Return the band of a score under a scorecard's thresholds (each threshold belongs to the higher band)."""
    if score >= scorecard.green_at:
        return "green"
    if score >= scorecard.yellow_at:
        return "yellow"
    return "red"


def score(account: Account, scorecard: Scorecard = DEFAULT_SCORECARD) -> HealthScore:
    """Score an account's latest usage; see the module docstring for the scorecard and the no-usage rule."""
    if account.usage is None:
        neutral = int(min(max(NEUTRAL, scorecard.yellow_at), scorecard.green_at - 1))
        return HealthScore(
            score=neutral,
            band="yellow",
            components=[],
            drivers=[Driver(label=NO_USAGE_LABEL, value=NEUTRAL, direction="down")],
        )
    values = component_values(account, account.usage)
    components = [
        Component(name=name, label=COMPONENT_LABELS[name], value=round(value, 1), weight=scorecard.weight(name))
        for name, value in values.items()
    ]
    total = math.floor(sum(c.value * c.weight for c in components) + 0.5)
    total = min(max(total, 0), 100)
    return HealthScore(
        score=total, band=band_for(total, scorecard), components=components, drivers=_drivers(components)
    )


def component_values(account: Account, usage: Usage) -> dict[str, float]:
    """Score each component 0..100 (unrounded) from one usage snapshot, in the documented order."""
    seats_used = max(account.seats_used, 0)
    active = max(usage.active_users, 0)
    active_share = active / seats_used if seats_used else 0.0
    logins_per_user = usage.logins / active if active else 0.0
    tickets_per_seat = max(usage.support_tickets, 0) / max(seats_used, MIN_SEATS_FOR_SUPPORT_LOAD)
    return {
        "active_users": 100 * _clip01(active_share),
        "seat_utilisation": 100 * _clip01(account.seat_utilisation),
        "feature_adoption": 100 * _clip01(usage.feature_adoption),
        "login_frequency": 100 * _clip01(logins_per_user / LOGINS_PER_USER_AT_FULL),
        "support_load": 100 * (1 - _clip01(tickets_per_seat / TICKETS_PER_SEAT_AT_ZERO)),
        "sentiment": _sentiment(usage.nps, usage.csat),
    }


def _sentiment(nps: int | None, csat: float | None) -> float:
    answers = []
    if nps is not None:
        answers.append(100 * _clip01(nps / 10))
    if csat is not None:
        answers.append(100 * _clip01((csat - 1) / 4))
    return sum(answers) / len(answers) if answers else NEUTRAL


def _drivers(components: list[Component]) -> list[Driver]:
    # sorted() is stable, so equal impacts keep the documented component order.
    ranked = sorted(components, key=lambda c: abs((c.value - NEUTRAL) * c.weight), reverse=True)
    return [
        Driver(label=c.label, value=c.value, direction="up" if c.value >= NEUTRAL else "down")
        for c in ranked[:DRIVER_COUNT]
    ]


def _clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)
