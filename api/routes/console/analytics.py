"""Console: analytics over a chosen period (conversations, containment, handoffs, fallbacks, CSAT, intents,
articles, offers, book KPIs), each chart with its numbers as a table and a CSV download."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from api.deps import CurrentStaff, SessionDep, SettingsDep
from api.routes.console import _analytics_charts
from api.routes.console._charts import csv_response, specs
from api.routes.console._pages import NO_STORE, not_found, render
from keepwell import analytics
from keepwell.analytics import BadPeriod, ReportPeriod
from keepwell.models import utcnow

router = APIRouter(prefix="/console", tags=["console"])

# The form's dates: YYYY-MM-DD, a little slack for what people paste; anything longer is refused before parsing.
FromDay = Annotated[str | None, Query(alias="from", max_length=40)]
ToDay = Annotated[str | None, Query(alias="to", max_length=40)]


@router.get("/analytics", response_class=HTMLResponse, include_in_schema=False)
def analytics_page(
    request: Request, staff: CurrentStaff, session: SessionDep, settings: SettingsDep, first: FromDay = None,
    last: ToDay = None,
) -> HTMLResponse:  # fmt: skip
    context = {"nav": "analytics", "first": first or "", "last": last or ""}
    try:
        period = ReportPeriod.parse(first, last, utcnow().date())
    except BadPeriod as bad:
        return render(
            request, "console_analytics.html", {**context, "error": str(bad)}, status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    report = analytics.report(session, period, settings)
    charts = _analytics_charts.charts(report)
    context.update(
        first=period.first.isoformat(),
        last=period.last.isoformat(),
        period=period,
        charts=charts,
        chart_data=specs(charts),
        book=[report.book[name] for name in _analytics_charts.BOOK_KPIS],
        kpi_text=_analytics_charts.kpi_text,
        query=f"from={period.first.isoformat()}&to={period.last.isoformat()}",
    )
    return render(request, "console_analytics.html", context)


@router.get("/analytics/{chart_id}.csv", include_in_schema=False)
def analytics_csv(
    request: Request, chart_id: Annotated[str, Path(max_length=40)], staff: CurrentStaff, session: SessionDep,
    settings: SettingsDep, first: FromDay = None, last: ToDay = None,
) -> Response:  # fmt: skip
    try:
        period = ReportPeriod.parse(first, last, utcnow().date())
    except BadPeriod as bad:
        return PlainTextResponse(f"Bad period: {bad}.", status.HTTP_422_UNPROCESSABLE_CONTENT, headers=NO_STORE)
    chart = _analytics_charts.by_id(analytics.report(session, period, settings), chart_id)
    if chart is None:
        return not_found(request, "chart")
    return csv_response(chart, f"keepwell-{chart.id}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv")
