"""`python -m keepwell kpis`: the customer-success KPIs of the whole book, a segment or an account, as a table or
JSON. Exit codes: 0 shown, 1 refused (database not ready, unknown segment or account), 2 wrong usage."""

import argparse
import json
import sys
from datetime import date

from pydantic import ValidationError

from keepwell.db import SchemaOutdated, check_current, get_engine, session_scope
from keepwell.kpis import KPI, Period, Report, Scope, UnknownScope, kpis
from keepwell.settings import get_core_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "kpis",
        help="MRR, ARR, ARPA, churn, retention, CSAT, NPS and LTV of the book, a segment or an account",
        description="KPIs over a period (default: the last full calendar month). Costs the data cannot tell come "
        "from KEEPWELL_KPI_GROSS_MARGIN, KEEPWELL_KPI_ACQUISITION_COST and KEEPWELL_KPI_RETENTION_SPEND.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--segment", metavar="NAME", help="a plan, company size or lifecycle stage, or plan.size.stage (* for any)"
    )
    which.add_argument("--account", metavar="ID", help="one account, by its id")
    parser.add_argument("--start", type=date.fromisoformat, metavar="YYYY-MM-DD", help="first day of the period")
    parser.add_argument("--end", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the day after the period")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=_kpis)


def _kpis(args: argparse.Namespace) -> int:
    try:
        period = _period(args.start, args.end)
        scope = Scope.segment(args.segment) if args.segment else Scope.account(args.account) if args.account else None
        settings = get_core_settings()
        engine = get_engine(settings.resolved_database_url)
        check_current(engine)
        with session_scope(engine) as session:
            report = kpis(session, scope or Scope.book(), period, settings)
    except (UnknownScope, SchemaOutdated, ValueError) as error:
        detail = "; ".join(str(e["msg"]) for e in error.errors()) if isinstance(error, ValidationError) else error
        print(f"error: {detail}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(report.as_dict(), indent=2) if args.json else render(report))
    return EXIT_OK


def _period(start: date | None, end: date | None) -> Period:
    if start is None and end is None:
        return Period.month_before(date.today())
    if start is None or end is None:
        raise ValueError("give both --start and --end, or neither (the last full month)")
    return Period(start=start, end=end)


def render(report: Report) -> str:
    """The report as an aligned text table, undefined KPIs with their reason."""
    period = f"{report.period.start.isoformat()} to {report.period.end.isoformat()}"
    rows = [(kpi.label, _format(kpi), kpi.note or "") for kpi in report.kpis]
    width = max(len(label) for label, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    lines = [f"KPIs of the {report.scope} ({report.accounts} accounts), {period}", ""]
    lines += [f"{label.ljust(width)}  {value.rjust(value_width)}  {note}".rstrip() for label, value, note in rows]
    return "\n".join(lines)


def _format(kpi: KPI) -> str:
    if kpi.value is None:
        return "-"
    if kpi.unit == "share":
        return f"{kpi.value * 100:.1f} %"
    if kpi.unit == "nps":
        return f"{kpi.value:+.0f}"
    if kpi.unit == "count":
        return f"{kpi.value:,.0f}"
    if kpi.unit == "months":
        return f"{kpi.value:,.1f} months"
    suffix = " /month" if kpi.unit == "usd_per_month" else ""
    return f"${kpi.value:,.2f}{suffix}"
