"""A generated book of business as importable files (`python -m keepwell generate`): accounts across plans, sizes
and stages, their contacts, subscription terms (some grown, some shrunk, a few cancelled in the last year so churn,
retention and LTV are defined), weekly usage with a trend (most steady, some growing, some declining), support
tickets, CSAT and NPS answers and onboarding checklists.

Everything is drawn from the seed and the end date, so the same arguments give byte-identical files. Account-level
choices use `random.Random`; the weekly series are NumPy vectors, so 10,000 accounts x 52 weeks take seconds.
"""

import csv
import random
import zlib
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from keepwell.demo_data import ENTERPRISE_SEAT_PRICES, FREE_SEAT_ALLOWANCE, PLAN_SEAT_LIMITS, SEAT_PRICES
from keepwell.demo_records import CHECKLIST
from keepwell.importing.rows import KINDS

FEATURES = ("tasks", "projects", "automations", "reports", "integrations", "mobile")
_PLAN_WEIGHTS = {"free": 0.25, "starter": 0.35, "growth": 0.28, "enterprise": 0.12}
_PLAN_SIZES = {"free": ("small", "mid"), "starter": ("small", "mid"), "growth": ("small", "mid", "large")}
_PLAN_SIZES["enterprise"] = ("mid", "large")
_SEAT_RANGES = {"small": (3, 20), "mid": (21, 150), "large": (151, 1200)}
# Weekly active users at the start and at the end of the year, as shares of the seats used, by trend.
_TRENDS = {"steady": (0.75, 0.75), "growing": (0.45, 0.9), "declining": (0.85, 0.3)}
_TREND_WEIGHTS = {"steady": 0.55, "growing": 0.25, "declining": 0.20}
_CHURN_SHARE = 0.08  # of paying accounts, cancelled within the generated weeks (most of them declining ones)
_CHANGE_SHARE = 0.3  # of paying accounts, one change of seats since signup
_NAMES = (
    "Bluefin", "Copperleaf", "Driftwood", "Emberline", "Foxglove", "Glasswing", "Harborlight", "Ironbark", "Juniper",
    "Kestrel", "Lanternfish", "Marigold", "Nimbus", "Oakhollow", "Pebblebrook", "Quill", "Redwing", "Saltmarsh",
    "Thistle", "Umber", "Velvetleaf", "Willowmere", "Yellowtail", "Zephyr",
)  # fmt: skip
_SUFFIXES = ("Labs", "Studios", "Logistics", "Health", "Partners", "Systems", "Foods", "Media", "Works", "Group")
_PEOPLE = ("Alex", "Sam", "Jordan", "Priya", "Mateo", "Yuki", "Amara", "Lena", "Omar", "Chloe", "Ines", "Tomasz")


@dataclass
class World:
    """What `generate` wrote: the files and how many rows each holds."""

    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def generate(out: Path, accounts: int, weeks: int, *, seed: int = 0, end: date) -> World:
    """Write `accounts` accounts with `weeks` weekly usage snapshots each (the last ending on or before `end`) as
    CSV files, one per kind, into the folder `out`; returns the files and their row counts."""
    if accounts < 1 or weeks < 1:
        raise ValueError("give at least one account and one week")
    out.mkdir(parents=True, exist_ok=True)
    last_week_end = end - timedelta(days=(end.weekday() + 1) % 7)  # the last Sunday on or before `end`
    week_ends = [last_week_end - timedelta(weeks=weeks - 1 - week) for week in range(weeks)]
    # Written on every usage row: formatted once per world, not once per row.
    week_labels = [week_end.isoformat() for week_end in week_ends]
    rng = random.Random(f"keepwell-world-{seed}")  # noqa: S311 -- reproducible test data, not secrecy
    noise = np.random.default_rng(seed)
    world = World()
    writers = _Writers(out, world)
    try:
        for number in range(1, accounts + 1):
            _Account(number, rng, noise, week_ends, week_labels).write(writers)
    finally:
        writers.close()
    return world


class _Writers:
    """One CSV writer per kind, with the kind's header."""

    _HEADERS: ClassVar[dict[str, list[str]]] = {
        "usage": [
            *("account_id", "period_end", "period_days", "logins", "active_users", "support_tickets", "nps", "csat"),
            "feature_adoption",
            *(f"feature:{name}" for name in FEATURES),
        ],
        "tickets": [
            "external_id",
            "account_id",
            "contact_external_id",
            "subject",
            "priority",
            "opened_at",
            "closed_at",
        ],
    }

    def __init__(self, out: Path, world: World) -> None:
        self._files = {}
        self._writers: dict[str, Any] = {}
        self._world = world
        for kind in KINDS.values():
            path = out / f"{kind.name}.csv"
            file = path.open("w", encoding="utf-8", newline="")
            self._files[kind.name] = file
            self._writers[kind.name] = csv.writer(file, lineterminator="\n")
            self._writers[kind.name].writerow(self._HEADERS.get(kind.name, list(kind.columns)))
            world.files[kind.name], world.rows[kind.name] = path, 0

    def add(self, kind: str, rows: list[list[Any]]) -> None:
        self._writers[kind].writerows(rows)
        self._world.rows[kind] += len(rows)

    def close(self) -> None:
        for file in self._files.values():
            file.close()


class _Account:
    """One generated account and everything about it."""

    def __init__(
        self, number: int, rng: random.Random, noise: np.random.Generator, week_ends: list[date], week_labels: list[str]
    ) -> None:
        self.id = f"acct-{number:06d}"
        self.rng, self.noise, self.week_ends, self.week_labels = rng, noise, week_ends, week_labels
        self.end = week_ends[-1]
        self.plan = rng.choices(list(_PLAN_WEIGHTS), weights=list(_PLAN_WEIGHTS.values()))[0]
        self.size = rng.choice(_PLAN_SIZES[self.plan])
        self.trend = rng.choices(list(_TREND_WEIGHTS), weights=list(_TREND_WEIGHTS.values()))[0]
        self.signup = self.end - timedelta(days=rng.randint(14, 4 * 365))
        self.renewal = _next_anniversary(self.signup, self.end)
        self.seats, self.price = self._seats_and_price()
        self.used = self.seats if self.plan == "free" else max(1, round(self.seats * rng.uniform(0.55, 1.0)))
        paying = self.plan != "free"
        churn_odds = _CHURN_SHARE * (2.5 if self.trend == "declining" else 0.6)
        self.cancelled_on = (
            rng.choice(week_ends[len(week_ends) // 4 :]) + timedelta(days=rng.randint(0, 6))
            if paying and self.signup < week_ends[0] and rng.random() < churn_odds
            else None
        )
        self.contacts = [f"{self.id}/c{index}" for index in range(1, rng.randint(1, 3) + 1)]

    def _seats_and_price(self) -> tuple[int, float]:
        if self.plan == "free":
            return FREE_SEAT_ALLOWANCE, 0.0
        low, high = _SEAT_RANGES[self.size]
        limit_low, limit_high = PLAN_SEAT_LIMITS[self.plan]
        seats = self.rng.randint(max(low, limit_low), max(min(high, limit_high), max(low, limit_low)))
        price = self.rng.choice(ENTERPRISE_SEAT_PRICES) if self.plan == "enterprise" else SEAT_PRICES[self.plan]
        return seats, price

    @property
    def stage(self) -> str:
        if (self.end - self.signup).days < 90:
            return "onboarding"
        if self.plan != "free" and (self.renewal - self.end).days <= 90:
            return "renewal"
        return "mature" if (self.end - self.signup).days > 2 * 365 else "adoption"

    def write(self, writers: _Writers) -> None:
        name = f"{self.rng.choice(_NAMES)} {self.rng.choice(_SUFFIXES)} {self.id[-6:]}"
        mrr = 0.0 if self.cancelled_on else round(self.seats * self.price, 2)
        account = [self.id, name, self.plan, self.size, self.stage, self.signup, self.renewal, "", mrr, self.seats]
        writers.add("accounts", [[*account, self.used]])
        writers.add("contacts", list(self._contacts()))
        writers.add("subscriptions", list(self._subscriptions()))
        tickets, answers, usage = self._activity()
        writers.add("usage", usage)
        writers.add("tickets", tickets)
        writers.add("surveys", answers)
        writers.add("onboarding", list(self._onboarding()))

    def _contacts(self) -> Iterator[list[Any]]:
        roles = ("champion", "admin", "billing")
        for index, external_id in enumerate(self.contacts):
            person = self.rng.choice(_PEOPLE)
            email = f"{person.lower()}.{index}@{self.id}.example"
            yield [external_id, self.id, person, email, roles[index], str(index == 0).lower()]

    def _subscriptions(self) -> Iterator[list[Any]]:
        """The terms since signup: one, or two when the seats changed once; the last ends if the account cancelled."""
        seats, start = self.seats, self.signup
        if self.plan != "free" and (self.end - self.signup).days > 60 and self.rng.random() < _CHANGE_SHARE:
            changed = self.signup + timedelta(days=self.rng.randint(30, (self.end - self.signup).days - 15))
            if self.cancelled_on is not None:
                changed = min(changed, self.cancelled_on - timedelta(days=1))
            earlier = max(1, round(seats * self.rng.uniform(0.6, 1.4)))
            yield self._term(0, earlier, self.signup, None, changed, "superseded")
            start = changed
        ended = self.cancelled_on
        yield self._term(1, seats, start, self.renewal, ended, "canceled" if ended else "active")

    def _term(
        self, number: int, seats: int, start: date, renews: date | None, ended: date | None, status: str
    ) -> list[Any]:
        billing = (
            "past_due" if self.trend == "declining" and status == "active" and self.rng.random() < 0.2 else "current"
        )
        used = min(seats, self.used)
        mrr = round(seats * self.price, 2)
        terms = [f"{self.id}-s{number}", self.id, self.plan, mrr, seats, used, start, renews, ended, status, billing]
        return [*terms, self._add_ons()]

    def _add_ons(self) -> str:
        """About one paying account in five has an add-on, picked from its id (not the generator: the rest of the
        world stays what it was before subscriptions had add-ons)."""
        pick = zlib.crc32(self.id.encode())
        if self.plan not in ("starter", "growth") or pick % 5:
            return ""
        return ("automations-pro", "premium-support", "automations-pro;premium-support")[pick // 5 % 3]

    def _activity(self) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
        """Weekly usage with the account's trend, the tickets behind its ticket counts and its survey answers."""
        first = bisect_left(self.week_ends, self.signup)
        last = bisect_left(self.week_ends, self.cancelled_on) if self.cancelled_on else len(self.week_ends)
        live = self.week_ends[first:last]
        if not live:
            return [], [], []
        count = len(live)
        start_share, end_share = _TRENDS[self.trend]
        share = np.linspace(start_share, end_share, count) * self.noise.normal(1.0, 0.08, count)
        active = np.clip(np.rint(self.used * share), 0, self.used).astype(int)
        logins = np.rint(active * self.noise.uniform(2.5, 6.0) * self.noise.normal(1.0, 0.1, count)).clip(0).astype(int)
        # Declining accounts write in more as things go wrong; a ticket load rises towards the end.
        base_rate = 0.05 + 0.004 * self.used**0.5 * (3.0 if self.trend == "declining" else 1.0)
        ticket_rate = base_rate * np.linspace(0.6, 1.6 if self.trend == "declining" else 1.0, count)
        ticket_counts = self.noise.poisson(ticket_rate)
        adoption = self.noise.uniform(0.0, 1.0, len(FEATURES)) * (1.2 if self.trend == "growing" else 0.9)
        features = np.clip(np.rint(np.outer(active, np.clip(adoption, 0, 1))), 0, None).astype(int)
        tickets: list[list[Any]] = []
        answers: list[list[Any]] = []
        nps_column: list[int | None] = []
        csat_column: list[int | None] = []
        nps: int | None = None
        # Plain lists: indexing NumPy arrays element by element (and writing NumPy scalars) is several times slower.
        for week, (period_end, ticket_count) in enumerate(zip(live, ticket_counts.tolist(), strict=True)):
            csat: int | None = None
            for number in range(ticket_count):
                ticket, score = self._ticket(period_end, week, number)
                tickets.append(ticket)
                if score is not None:
                    answers.append([f"{ticket[0]}-csat", self.id, "", "csat", score, ticket[6], ""])
                    csat = score
            if week % 13 == 12 or (week == count - 1 and nps is None):
                nps = self._nps(week / max(count - 1, 1))
                moment = _moment(period_end, 15)
                answers.append([f"{self.id}-nps-{period_end}", self.id, self.contacts[0], "nps", nps, moment, ""])
            nps_column.append(nps)
            csat_column.append(csat)
        # What the product reports beside the per-feature counts: the share of features in use that week.
        adoption_share = np.round((features > 0).mean(axis=1), 4).tolist()
        columns = (logins.tolist(), active.tolist(), ticket_counts.tolist(), nps_column, csat_column, adoption_share)
        weeks = zip(self.week_labels[first:last], *columns, *features.T.tolist(), strict=True)
        usage = [[self.id, period_end, 7, *row] for period_end, *row in weeks]
        return tickets, answers, usage

    def _ticket(self, period_end: date, week: int, number: int) -> tuple[list[Any], int | None]:
        opened = datetime.combine(period_end - timedelta(days=self.rng.randint(0, 6)), time(9 + number % 8), UTC)
        closed = opened + timedelta(hours=self.rng.randint(1, 72))
        priority = self.rng.choice(
            ("low", "normal", "normal", "high", "urgent" if self.trend == "declining" else "high")
        )
        ticket = [f"{self.id}-t{week}-{number}", self.id, self.rng.choice(self.contacts), "Help request", priority]
        ticket += [opened.isoformat(), closed.isoformat()]
        if self.rng.random() >= 0.5:
            return ticket, None
        good = {"declining": 0.4, "steady": 0.75, "growing": 0.9}[self.trend]
        return ticket, self.rng.randint(4, 5) if self.rng.random() < good else self.rng.randint(1, 3)

    def _nps(self, progress: float) -> int:
        """Promoters among growing accounts, detractors among declining ones as the year goes on."""
        if self.trend == "declining":
            return max(0, min(10, round(8 - 6 * progress + self.rng.gauss(0, 1.2))))
        if self.trend == "growing":
            return max(0, min(10, round(7.5 + 2 * progress + self.rng.gauss(0, 1))))
        return max(0, min(10, round(self.rng.gauss(7.5, 1.5))))

    def _onboarding(self) -> Iterator[list[Any]]:
        days_in = (self.end - self.signup).days
        done = len(CHECKLIST) if days_in > 90 else min(len(CHECKLIST), days_in // 15 + self.rng.randint(0, 1))
        for position, (key, title, url) in enumerate(CHECKLIST, start=1):
            due = self.signup + timedelta(days=7 * position)
            completed = _moment(self.signup + timedelta(days=5 * position), 11) if position <= done else ""
            yield [self.id, key, title, position, url, due, completed]


def _moment(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), UTC).isoformat()


def _next_anniversary(signup: date, today: date) -> date:
    """The first anniversary of `signup` after `today` (annual contracts renew on it)."""
    for years in range(1, 100):
        try:
            anniversary = signup.replace(year=signup.year + years)
        except ValueError:  # 29 February
            anniversary = signup.replace(year=signup.year + years, day=28)
        if anniversary > today:
            return anniversary
    raise ValueError("signup date too far in the past")
