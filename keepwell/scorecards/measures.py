"""What a scorecard can measure: the facts known about an account on a day, and each measure's raw value and the
plain words that describe it ("38 of 40 seats in use").

A measure returns None when the account has no data for it; the scorecard then leaves it out and renormalises the
other weights (never scores it as zero).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

# Tickets per seat are divided by at least this many seats, so one ticket from a three-person team is not a crisis.
MIN_SEATS_FOR_SUPPORT_LOAD = 10
MONTH_DAYS = 30
TICKET_WINDOW_DAYS = 30
BILLING_STATES = ("current", "past_due", "unpaid")


@dataclass(frozen=True)
class Facts:
    """What is known about one account on `as_of`; None where the data says nothing."""

    as_of: date
    seats_purchased: int
    seats_used: int
    signup_date: date
    renewal_date: date | None = None
    # The latest usage snapshot ending on or before as_of (all None without one).
    period_days: int | None = None
    logins: int | None = None
    active_users: int | None = None
    feature_adoption: float | None = None
    features: dict[str, int] | None = None
    tickets: int | None = None  # support tickets in the TICKET_WINDOW_DAYS before as_of
    csat: float | None = None  # mean CSAT answer 1..5
    nps: float | None = None  # mean NPS answer 0..10
    billing_state: str | None = None  # of the subscription term in force
    onboarding_done: int = 0
    onboarding_total: int = 0

    @property
    def has_usage(self) -> bool:
        return self.period_days is not None

    @property
    def account_age_days(self) -> int:
        return (self.as_of - self.signup_date).days

    @property
    def days_to_renewal(self) -> int | None:
        return None if self.renewal_date is None else (self.renewal_date - self.as_of).days


Value = float | str


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    kind: Literal["number", "category"]
    value: Callable[[Facts], Value | None]
    describe: Callable[[Facts, Value], str]


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}" + ("" if n == 1 else "s")


def _login_frequency(f: Facts) -> float | None:
    if f.period_days is None or f.logins is None or f.active_users is None:
        return None
    # Logins per active user scaled to a month, so weekly and 30-day snapshots read alike.
    per_user = f.logins / f.active_users if f.active_users > 0 else 0.0
    return per_user * MONTH_DAYS / max(f.period_days, 1)


def _describe_logins(f: Facts, value: Value) -> str:
    if not f.logins:
        return f"no logins in the last {f.period_days} days"
    return f"about {round(float(value))} logins a month per active user"


def _active_users(f: Facts) -> float | None:
    if f.active_users is None:
        return None
    return f.active_users / f.seats_used if f.seats_used > 0 else 0.0


def _seat_utilisation(f: Facts) -> float | None:
    return f.seats_used / f.seats_purchased if f.seats_purchased > 0 else None


def _feature_adoption(f: Facts) -> float | None:
    if f.features:
        return sum(1 for users in f.features.values() if users > 0) / len(f.features)
    return f.feature_adoption


def _describe_adoption(f: Facts, value: Value) -> str:
    if f.features:
        used = sum(1 for users in f.features.values() if users > 0)
        return f"{used} of {len(f.features)} key features in use"
    return f"{round(100 * float(value))}% of the key features in use"


def _support_load(f: Facts) -> float | None:
    return None if f.tickets is None else f.tickets / max(f.seats_used, MIN_SEATS_FOR_SUPPORT_LOAD)


def _describe_renewal(f: Facts, value: Value) -> str:
    days = int(value)
    if days < 0:
        return f"renewal date passed {_plural(-days, 'day')} ago"
    return "renewal today" if days == 0 else f"renewal in {_plural(days, 'day')}"


_BILLING_WORDS = {"current": "payments up to date", "past_due": "a payment is past due", "unpaid": "invoices unpaid"}


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("login_frequency", "login frequency", "number", _login_frequency, _describe_logins),
        Measure(
            "active_users",
            "active users",
            "number",
            _active_users,
            lambda f, v: (
                f"{f.active_users} of {f.seats_used} people with a seat active in the last {f.period_days} days"
            ),
        ),
        Measure(
            "seat_utilisation",
            "seat utilisation",
            "number",
            _seat_utilisation,
            lambda f, v: f"{f.seats_used} of {f.seats_purchased} seats in use",
        ),
        Measure("feature_adoption", "feature adoption", "number", _feature_adoption, _describe_adoption),
        Measure(
            "support_load",
            "support load",
            "number",
            _support_load,
            lambda f, v: f"{_plural(f.tickets or 0, 'support ticket')} in the last {TICKET_WINDOW_DAYS} days",
        ),
        Measure(
            "csat",
            "customer satisfaction",
            "number",
            lambda f: f.csat,
            lambda f, v: f"satisfaction {float(v):.1f} out of 5",
        ),
        Measure(
            "nps",
            "likelihood to recommend",
            "number",
            lambda f: f.nps,
            lambda f, v: f"likelihood to recommend {float(v):.1f} out of 10".replace(".0 ", " "),
        ),
        Measure("days_to_renewal", "renewal", "number", lambda f: f.days_to_renewal, _describe_renewal),
        Measure(
            "billing_state",
            "billing",
            "category",
            lambda f: f.billing_state,
            lambda f, v: _BILLING_WORDS.get(str(v), f"billing {v}"),
        ),
        Measure(
            "onboarding_progress",
            "onboarding progress",
            "number",
            lambda f: f.onboarding_done / f.onboarding_total if f.onboarding_total else None,
            lambda f, v: f"{f.onboarding_done} of {f.onboarding_total} onboarding steps done",
        ),
    )
}
