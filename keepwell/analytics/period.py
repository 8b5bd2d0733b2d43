"""The period an analytics report covers: whole UTC days from `first` to `last`, both included."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from keepwell.kpis import Period

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year (leap day included): longer asks would scan the whole log for a chart nobody can read


class BadPeriod(ValueError):
    """A period that cannot be reported on; the message says why in words a CSM understands."""


@dataclass(frozen=True)
class ReportPeriod:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise BadPeriod(f"the period ends ({self.last}) before it starts ({self.first})")
        if self.length > MAX_DAYS:
            raise BadPeriod(f"the period is {self.length} days long; choose at most {MAX_DAYS} days")

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first moment counted (midnight UTC of `first`)."""
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment no longer counted (midnight UTC after `last`)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.length)]

    @property
    def kpi_period(self) -> Period:
        """The same days as the book KPIs count them (start day in force, end exclusive)."""
        return Period(start=self.first, end=self.last + timedelta(days=1))

    @classmethod
    def last_days(cls, today: date, days: int = DEFAULT_DAYS) -> "ReportPeriod":
        """The `days` days up to and including `today`."""
        return cls(first=today - timedelta(days=days - 1), last=today)

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date) -> "ReportPeriod":
        """A period from the form's `from` and `to` (YYYY-MM-DD); either left empty takes the default's bound.

        Raises:
            BadPeriod: a date that is not YYYY-MM-DD, or a period that ends before it starts or is too long.
        """
        default = cls.last_days(today)
        return cls(first=_day(first, "from") or default.first, last=_day(last, "to") or default.last)


def _day(text: str | None, name: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadPeriod(f"{name!r} must be a date written YYYY-MM-DD, not {text.strip()[:40]!r}") from None
