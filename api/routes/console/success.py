"""Console: the customer-success desk: open CSM tasks, open churn signals, and webhook calls not delivered."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CurrentStaff, SessionDep
from api.routes.console import _customers
from api.routes.console._pages import render
from keepwell import signals, tasks, webhooks

router = APIRouter(prefix="/console", tags=["console"])


@router.get("/success", response_class=HTMLResponse, include_in_schema=False)
def success_desk(
    request: Request, staff: CurrentStaff, session: SessionDep, mine: bool = Query(default=False)
) -> HTMLResponse:
    open_tasks = tasks.open_tasks(session, owner_id=staff.id if mine else None)
    open_signals = signals.list_signals(session)
    deliveries = webhooks.undelivered(session)
    names = _customers.labels(session, {s.account_id for s in open_signals} | {d.account_id for d in deliveries})
    context = {
        "nav": "success",
        "mine": mine,
        "tasks": open_tasks,
        "signals": [{"signal": s, "customer": names[s.account_id]} for s in open_signals],
        "deliveries": [{"delivery": d, "customer": names[d.account_id]} for d in deliveries],
    }
    return render(request, "console_success.html", context)
