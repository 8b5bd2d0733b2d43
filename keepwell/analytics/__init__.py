"""Analytics of the conversation log and the book over a chosen period: the numbers behind the console's charts.

`report(session, period, settings)` reads everything for the analytics page; each part is a module of its own
(`conversations`, `support`, `articles`) and the offer funnel and book KPIs come from `keepwell.funnel` and
`keepwell.kpis` unchanged. Every count is an SQL aggregate that runs the same on SQLite and PostgreSQL.
"""

from functools import cached_property

from sqlalchemy.orm import Session

from keepwell import funnel, kpis
from keepwell.analytics import articles, conversations, support
from keepwell.analytics.articles import ArticleCount
from keepwell.analytics.conversations import Count, DayContainment, DayFallback, DayVolume
from keepwell.analytics.period import BadPeriod, ReportPeriod
from keepwell.analytics.support import Csat, HandoffStats
from keepwell.funnel import FunnelRow
from keepwell.settings import CoreSettings

__all__ = [
    "ArticleCount",
    "BadPeriod",
    "Count",
    "Csat",
    "DayContainment",
    "DayFallback",
    "DayVolume",
    "HandoffStats",
    "Report",
    "ReportPeriod",
    "report",
]


class Report:
    """Every part of the analytics of `period`, each read from the database on first use, so a CSV of one chart
    reads only its part. Read the parts while the session is open (within the request)."""

    def __init__(self, session: Session, period: ReportPeriod, settings: CoreSettings) -> None:
        self._session = session
        self._settings = settings
        self.period = period

    @cached_property
    def volume(self) -> list[DayVolume]:
        return conversations.volume(self._session, self.period)

    @cached_property
    def containment(self) -> list[DayContainment]:
        return conversations.containment(self._session, self.period)

    @cached_property
    def handoffs(self) -> HandoffStats:
        return support.handoff_stats(self._session, self.period)

    @cached_property
    def fallbacks(self) -> list[DayFallback]:
        return conversations.fallbacks(self._session, self.period)

    @cached_property
    def csat(self) -> Csat:
        return support.csat(self._session, self.period)

    @cached_property
    def intents(self) -> list[Count]:
        return conversations.top_intents(self._session, self.period)

    @cached_property
    def articles(self) -> list[ArticleCount]:
        return articles.served(self._session, self.period)

    @cached_property
    def articles_before_handoff(self) -> list[ArticleCount]:
        return articles.before_handoff(self._session, self.period)

    @cached_property
    def offers(self) -> list[FunnelRow]:
        return funnel.funnel(self._session, start=self.period.start, end=self.period.end)

    @cached_property
    def book(self) -> kpis.Report:
        """The book KPIs of the same days, from `keepwell.kpis` (nothing re-derived here)."""
        return kpis.book_kpis(self._session, self.period.kpi_period, self._settings)

    @property
    def conversations(self) -> int:
        return sum(day.total for day in self.volume)

    @property
    def handed_over(self) -> int:
        return sum(day.handed_over for day in self.containment)

    @property
    def containment_rate(self) -> float | None:
        total = sum(day.conversations for day in self.containment)
        return (total - self.handed_over) / total if total else None

    @property
    def handoff_rate(self) -> float | None:
        total = sum(day.conversations for day in self.containment)
        return self.handed_over / total if total else None

    @property
    def fallback_rate(self) -> float | None:
        read = sum(day.messages for day in self.fallbacks)
        return sum(day.not_understood for day in self.fallbacks) / read if read else None


def report(session: Session, period: ReportPeriod, settings: CoreSettings) -> Report:
    """The analytics of `period`; nothing is read until a part is used."""
    return Report(session, period, settings)
