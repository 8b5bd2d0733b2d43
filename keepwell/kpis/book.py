"""KPIs of a book of business read from the database: the whole book, a segment, or one account, over a period.

The numbers come from subscription terms (MRR on a day is the sum over the terms in force that day, trials
excluded) and survey answers; the formulas are `keepwell.kpis.formulas`. The period runs from `start` to `end`:
"at the start" means in force on `start`, "at the end" in force on `end`, and answers count from `start`
(inclusive) to `end` (exclusive), so consecutive periods share their boundary day and count nothing twice.
A customer is an account paying at that moment (MRR above 0): free accounts are users, not customers. Segments
match the accounts' current plan, size and stage, so an account that went down from Starter to Free counts as lost
in the Free segment's churn, not in Starter's.

How each KPI is built (a KPI the numbers leave undefined carries the reason instead of a value):

| KPI                | from                                                                                        |
|--------------------|---------------------------------------------------------------------------------------------|
| MRR, ARR           | the terms in force at the end                                                               |
| ARPA               | MRR at the end / customers at the end                                                       |
| churn rate         | customers at the start not paying at the end / customers at the start                       |
| monthly churn      | the churn rate as the constant monthly rate that compounds to it over the period            |
| GRR, NRR           | the MRR at the start and at the end of the customers at the start                           |
| retention cost     | KEEPWELL_KPI_RETENTION_SPEND (per month, whole book) / the book's customers at the start     |
| CSAT, NPS          | the answers given in the period                                                             |
| LTV (ARPA / churn) | ARPA / monthly churn                                                                        |
| LTV (margin)       | ARPA x KEEPWELL_KPI_GROSS_MARGIN / monthly churn                                            |
| LTV (purchases)    | ARPA (the monthly purchase) x 1 purchase a month x lifetime (1 / monthly churn, in months)  |
| LTV (net of costs) | the above - (KEEPWELL_KPI_ACQUISITION_COST + retention cost a month x lifetime)             |

With monthly billing the purchase formula equals ARPA / churn; annual billing (12 x ARPA once a year) gives the
same product. A single account's churn rate is 0 or 1, so its LTVs use the book's monthly churn instead.
"""

import calendar
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from keepwell.kpis import formulas
from keepwell.kpis.formulas import UndefinedKPI
from keepwell.models import Customer, Subscription, SurveyAnswer
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS
from keepwell.settings import CoreSettings

DAYS_PER_MONTH = 365.25 / 12
_DIMENSIONS = (("plan", PLANS), ("company_size", COMPANY_SIZES), ("lifecycle_stage", LIFECYCLE_STAGES))


class UnknownScope(ValueError):
    """A segment name or account id that matches nothing the book knows."""


@dataclass(frozen=True)
class Period:
    """From `start` to `end` (see the module docstring for what counts where)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a period ends after it starts: {self.start} to {self.end}")

    @property
    def months(self) -> float:
        return (self.end - self.start).days / DAYS_PER_MONTH

    @classmethod
    def month_before(cls, today: date) -> "Period":
        """The last full calendar month before `today`'s: from its first day to the first day of `today`'s month."""
        end = today.replace(day=1)
        previous = end - timedelta(days=1)
        return cls(start=previous.replace(day=1), end=end)

    @classmethod
    def month_of(cls, year: int, month: int) -> "Period":
        days = calendar.monthrange(year, month)[1]
        return cls(start=date(year, month, 1), end=date(year, month, 1) + timedelta(days=days))


@dataclass(frozen=True)
class Scope:
    """Which accounts: the whole book, those of a segment, or one account."""

    label: str
    kind: str  # book | segment | account
    condition: ColumnElement[bool]

    @classmethod
    def book(cls) -> "Scope":
        return cls(label="whole book", kind="book", condition=true())

    @classmethod
    def account(cls, account_id: str) -> "Scope":
        return cls(label=f"account {account_id}", kind="account", condition=Customer.id == account_id)

    @classmethod
    def segment(cls, name: str) -> "Scope":
        """A segment by name: a plan, a company size or a lifecycle stage ("growth", "large", "renewal"), or a key
        plan.size.stage where any part may be `*` ("enterprise.*.renewal").

        Raises:
            UnknownScope: a part is none of the known values.
        """
        parts = name.strip().lower().split(".")
        conditions: list[ColumnElement[bool]] = []
        if len(parts) == 1:
            dimension = next((column for column, values in _DIMENSIONS if parts[0] in values), None)
            if dimension is None:
                raise UnknownScope(_unknown_segment(name))
            conditions.append(getattr(Customer, dimension) == parts[0])
        elif len(parts) == len(_DIMENSIONS):
            for part, (column, values) in zip(parts, _DIMENSIONS, strict=True):
                if part == "*":
                    continue
                if part not in values:
                    raise UnknownScope(_unknown_segment(name))
                conditions.append(getattr(Customer, column) == part)
        else:
            raise UnknownScope(_unknown_segment(name))
        return cls(label=f"segment {name}", kind="segment", condition=and_(true(), *conditions))


@dataclass(frozen=True)
class KPI:
    name: str  # machine key, e.g. "nrr"
    label: str
    value: float | None  # None: undefined, `note` says why
    unit: str  # usd | usd_per_month | share | nps | months | count
    note: str | None = None


@dataclass(frozen=True)
class Report:
    scope: str
    period: Period
    accounts: int  # accounts in the scope, paying or not
    kpis: tuple[KPI, ...]

    def __getitem__(self, name: str) -> KPI:
        return next(kpi for kpi in self.kpis if kpi.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "accounts": self.accounts,
            "kpis": {
                kpi.name: {"label": kpi.label, "value": kpi.value, "unit": kpi.unit, "note": kpi.note}
                for kpi in self.kpis
            },
        }


@dataclass(frozen=True)
class _Revenue:
    """MRR at the start and at the end of every account of a scope that has any term overlapping the period."""

    at_start: dict[str, float]
    at_end: dict[str, float]

    @property
    def customers_at_start(self) -> list[str]:
        return [account for account, amount in self.at_start.items() if amount > 0]

    @property
    def lost(self) -> list[str]:
        return [account for account in self.customers_at_start if self.at_end.get(account, 0.0) == 0]

    def monthly_churn(self, period: Period) -> float:
        churn = formulas.churn_rate(len(self.customers_at_start), len(self.lost))
        return formulas.monthly_rate(churn, period.months)


def book_kpis(session: Session, period: Period, settings: CoreSettings) -> Report:
    return kpis(session, Scope.book(), period, settings)


def segment_kpis(session: Session, name: str, period: Period, settings: CoreSettings) -> Report:
    return kpis(session, Scope.segment(name), period, settings)


def account_kpis(session: Session, account_id: str, period: Period, settings: CoreSettings) -> Report:
    return kpis(session, Scope.account(account_id), period, settings)


def kpis(session: Session, scope: Scope, period: Period, settings: CoreSettings) -> Report:
    """Every KPI of the accounts in `scope` over `period`.

    Raises:
        UnknownScope: an account scope whose account does not exist.
    """
    accounts = session.scalar(select(func.count()).select_from(Customer).where(scope.condition)) or 0
    if scope.kind == "account" and accounts == 0:
        raise UnknownScope(f"no account has the id {scope.label.removeprefix('account ')!r}")
    revenue = _revenue(session, scope, period)
    book = revenue if scope.kind == "book" else _revenue(session, Scope.book(), period)
    end_mrr = formulas.mrr(revenue.at_end.values())
    paying_at_end = sum(1 for amount in revenue.at_end.values() if amount > 0)
    answers = _answers(session, scope, period)

    arpa = _measure(lambda: formulas.arpa(end_mrr, paying_at_end))
    churn = _measure(lambda: formulas.churn_rate(len(revenue.customers_at_start), len(revenue.lost)))
    churn_source = book if scope.kind == "account" else revenue
    monthly_churn = _measure(lambda: churn_source.monthly_churn(period))
    if scope.kind == "account" and monthly_churn[0] is not None:
        monthly_churn = (monthly_churn[0], "the book's (one account's own churn is 0 or 1)")
    movements = formulas.revenue_movements(
        (revenue.at_start[account], revenue.at_end.get(account, 0.0)) for account in revenue.customers_at_start
    )
    retention_cost = _measure(
        lambda: formulas.customer_retention_cost(
            _setting(settings.kpi_retention_spend, "KEEPWELL_KPI_RETENTION_SPEND"), len(book.customers_at_start)
        )
    )
    lifetime = _measure(lambda: formulas.customer_lifetime(_value(monthly_churn)))

    values: list[tuple[str, str, str, tuple[float | None, str | None]]] = [
        ("mrr", "MRR", "usd_per_month", (end_mrr, None)),
        ("arr", "ARR", "usd", (formulas.arr(end_mrr), None)),
        ("customers", "Paying customers", "count", (float(paying_at_end), None)),
        ("arpa", "ARPA", "usd_per_month", arpa),
        ("churn_rate", "Churn rate (period)", "share", churn),
        ("monthly_churn", "Churn rate (monthly)", "share", monthly_churn),
        ("grr", "Gross revenue retention", "share", _measure(lambda: formulas.gross_revenue_retention(movements))),
        ("nrr", "Net revenue retention", "share", _measure(lambda: formulas.net_revenue_retention(movements))),
        ("retention_cost", "Retention cost per customer", "usd_per_month", retention_cost),
        ("csat", "CSAT (top-2-box)", "share", _measure(lambda: formulas.csat(answers["csat"]))),
        ("nps", "NPS", "nps", _measure(lambda: formulas.nps(answers["nps"]))),
        ("lifetime", "Customer lifetime", "months", lifetime),
        (
            "ltv",
            "LTV (ARPA / churn)",
            "usd",
            _measure(lambda: formulas.ltv_from_churn(_value(arpa), _value(monthly_churn))),
        ),
        (
            "ltv_margin",
            "LTV (ARPA x margin / churn)",
            "usd",
            _measure(
                lambda: formulas.ltv_from_margin(
                    _value(arpa),
                    _setting(settings.kpi_gross_margin, "KEEPWELL_KPI_GROSS_MARGIN"),
                    _value(monthly_churn),
                )
            ),
        ),
        (
            "ltv_purchases",
            "LTV (purchase x frequency x lifetime)",
            "usd",
            _measure(lambda: formulas.ltv_from_purchases(_value(arpa), 1.0, _value(lifetime))),
        ),
        (
            "ltv_net",
            "LTV net of acquisition and retention cost",
            "usd",
            _measure(
                lambda: formulas.ltv_net_of_costs(
                    _value(arpa),
                    1.0,
                    _value(lifetime),
                    _setting(settings.kpi_acquisition_cost, "KEEPWELL_KPI_ACQUISITION_COST"),
                    _value(retention_cost) * _value(lifetime),
                )
            ),
        ),
    ]
    return Report(
        scope=scope.label,
        period=period,
        accounts=accounts,
        kpis=tuple(KPI(name, label, value, unit, note) for name, label, unit, (value, note) in values),
    )


def _revenue(session: Session, scope: Scope, period: Period) -> _Revenue:
    """One query: the terms of the scope's accounts that overlap the period, summed per account at both ends."""
    terms = session.execute(
        select(Subscription.account_id, Subscription.mrr, Subscription.started_on, Subscription.ended_on)
        .join(Customer, Customer.id == Subscription.account_id)
        .where(
            scope.condition,
            Subscription.status != "trialing",
            Subscription.started_on <= period.end,
            or_(Subscription.ended_on.is_(None), Subscription.ended_on > period.start),
        )
    ).all()
    at_start: dict[str, float] = defaultdict(float)
    at_end: dict[str, float] = defaultdict(float)
    for account, amount, started_on, ended_on in terms:
        for day, totals in ((period.start, at_start), (period.end, at_end)):
            if started_on <= day and (ended_on is None or day < ended_on):
                totals[account] += amount
    return _Revenue(at_start=dict(at_start), at_end=dict(at_end))


def _answers(session: Session, scope: Scope, period: Period) -> dict[str, list[int]]:
    rows = session.execute(
        select(SurveyAnswer.kind, SurveyAnswer.score)
        .join(Customer, Customer.id == SurveyAnswer.account_id)
        .where(
            scope.condition,
            SurveyAnswer.answered_at >= _midnight(period.start),
            SurveyAnswer.answered_at < _midnight(period.end),
        )
    ).all()
    answers: dict[str, list[int]] = {"csat": [], "nps": []}
    for kind, score in rows:
        answers[kind].append(score)
    return answers


def _measure(compute: Callable[[], float]) -> tuple[float | None, str | None]:
    """A KPI's value, or None and the reason it is undefined."""
    try:
        return compute(), None
    except UndefinedKPI as undefined:
        return None, str(undefined)


def _value(measured: tuple[float | None, str | None]) -> float:
    """The value of a KPI another one is built on; undefined passes its reason on."""
    value, note = measured
    if value is None:
        raise UndefinedKPI(note or "undefined")
    return value


def _setting(value: float | None, name: str) -> float:
    if value is None:
        raise UndefinedKPI(f"set {name}")
    return value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _unknown_segment(name: str) -> str:
    known = ", ".join(value for _column, values in _DIMENSIONS for value in values)
    return f"unknown segment {name!r}: name a plan, company size or lifecycle stage ({known}), or plan.size.stage"
