"""Console: the customer 360, one page per account: health with its measures and trend, segment, KPIs, churn
signals, onboarding, offers, open tasks and handoffs, and every conversation; the health trend also as CSV."""

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CurrentStaff, SessionDep, SettingsDep
from api.routes.console._analytics_charts import kpi_text
from api.routes.console._charts import Chart, Series, csv_response, specs
from api.routes.console._pages import not_found, render
from keepwell import customer360, customer_directory
from keepwell.customer360 import Customer360
from keepwell.models import utcnow
from keepwell.signals import SignalView

router = APIRouter(prefix="/console", tags=["console"])

AccountId = Annotated[str, Path(min_length=1, max_length=64)]
PAGE_SIZE = 50
Band = Literal["green", "yellow", "red", "unscored"]  # customer_directory.BAND_FILTERS
# Evidence keys shown on their own line, not in the list of numbers.
_EVIDENCE_TEXT = {"summary"}


@router.get("/customers", response_class=HTMLResponse, include_in_schema=False)
def customer_directory_page(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    band: Annotated[Band | Literal[""], Query()] = "",
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Every account, searched by name or id, filtered by health band and owner, by name, 50 a page."""
    found = customer_directory.search(
        session, text=q, band=band or None, owner_id=staff.id if mine else None, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    filters = {"q": q, "band": band, "mine": mine}
    context = {
        "nav": "customers",
        "found": found,
        "filters": filters,
        "page": page,
        "has_next": page * PAGE_SIZE < found.total,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "bands": customer_directory.BAND_FILTERS,
    }
    return render(request, "console_customers.html", context)


@router.get("/customers/{account_id}", response_class=HTMLResponse, include_in_schema=False)
def customer_page(
    request: Request, account_id: AccountId, staff: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    today = utcnow().date()
    view = customer360.customer_360(session, account_id, today, settings)
    if view is None:
        return not_found(request, "account")
    chart = health_chart(view)
    context = {
        "nav": "customers",
        "today": today,
        "view": view,
        "account": view.account,
        "health_chart": chart,
        "chart_data": specs([chart]),
        "evidence": {signal.id: evidence(signal) for signal in view.signals},
        "kpi_text": kpi_text,
    }
    return render(request, "console_customer.html", context)


@router.get("/customers/{account_id}/health.csv", include_in_schema=False)
def customer_health_csv(
    request: Request, account_id: AccountId, staff: CurrentStaff, session: SessionDep, settings: SettingsDep
) -> Response:
    view = customer360.customer_360(session, account_id, utcnow().date(), settings)
    if view is None:
        return not_found(request, "account")
    return csv_response(health_chart(view), f"keepwell-health-{_safe(account_id)}.csv")


def health_chart(view: Customer360) -> Chart:
    """The score over the snapshots; the table and CSV also hold each measure's points (a measure without data on a
    day is empty)."""
    history = view.history
    measures: dict[str, str] = {}  # name -> label, in the order they first appear
    for snapshot in history:
        for component in snapshot.components:
            measures.setdefault(component.name, component.label)
    points = [{c.name: c.value for c in snapshot.components} for snapshot in history]
    return Chart(
        id="health",
        title="Health score over time",
        type="line",
        label_header="Day",
        labels=[h.as_of.isoformat() if h.as_of else "" for h in history],
        series=[
            Series("Health score", [h.score for h in history], "score"),
            Series("Band", [h.band for h in history], "text", hidden=True),
            Series("Trend", [h.trend or "" for h in history], "text", hidden=True),
            Series("Scorecard", [h.scorecard for h in history], "text", hidden=True),
            *(
                Series(f"{label} (points)", [day.get(name) for day in points], "score", hidden=True)
                for name, label in measures.items()
            ),
        ],
        note="One point per recompute (python -m keepwell recompute); 0-100, bands by the account's scorecard.",
        empty_text="No health snapshot yet: the score above is computed live until the next recompute.",
    )


def evidence(signal: SignalView) -> list[tuple[str, str]]:
    """The numbers that raised a signal, as (name, value) in words; the summary is shown apart."""
    return [
        (key.replace("_", " ").capitalize(), str(value))
        for key, value in signal.evidence.items()
        if key not in _EVIDENCE_TEXT and not isinstance(value, dict | list)
    ]


def _safe(account_id: str) -> str:
    """The account id as it may appear in a download's file name."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in account_id)
