"""Analytics of the conversation log and the book over a chosen period: the numbers behind the console's charts.

`report(session, period, settings)` reads everything for the analytics page; each part is a module of its own
(`conversations`, `support`, `articles`) and the offer funnel and book KPIs come from `keepwell.funnel` and
`keepwell.kpis` unchanged. Every count is an SQL aggregate that runs the same on SQLite and PostgreSQL.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Report:
    period: ReportPeriod
    volume: list[DayVolume]
    containment: list[DayContainment]
    handoffs: HandoffStats
    fallbacks: list[DayFallback]
    csat: Csat
    intents: list[Count]
    articles: list[ArticleCount]
    articles_before_handoff: list[ArticleCount]
    offers: list[FunnelRow]
    book: kpis.Report

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
    return Report(
        period=period,
        volume=conversations.volume(session, period),
        containment=conversations.containment(session, period),
        handoffs=support.handoff_stats(session, period),
        fallbacks=conversations.fallbacks(session, period),
        csat=support.csat(session, period),
        intents=conversations.top_intents(session, period),
        articles=articles.served(session, period),
        articles_before_handoff=articles.before_handoff(session, period),
        offers=funnel.funnel(session, start=period.start, end=period.end),
        book=kpis.book_kpis(session, period.kpi_period, settings),
    )
