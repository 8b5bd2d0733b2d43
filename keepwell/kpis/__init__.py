"""Customer-success KPIs: the formulas as pure functions (`formulas`) and the book's numbers read from the database
(`book`)."""

from keepwell.kpis.book import KPI, Period, Report, Scope, UnknownScope, account_kpis, book_kpis, kpis, segment_kpis
from keepwell.kpis.formulas import UndefinedKPI

__all__ = [
    "KPI",
    "Period",
    "Report",
    "Scope",
    "UndefinedKPI",
    "UnknownScope",
    "account_kpis",
    "book_kpis",
    "kpis",
    "segment_kpis",
]
