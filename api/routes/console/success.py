"""Console: the customer-success desk: open CSM tasks, open churn signals, and webhook calls not delivered."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CurrentStaff, SessionDep, SignedInForm, client_address
from api.routes.console import _customers
from api.routes.console._pages import not_found, redirect, render
from keepwell import audit, funnel, signals, tasks, webhooks
from keepwell.models import utcnow

router = APIRouter(prefix="/console", tags=["console"])
# The offer funnel's window on the desk.
FUNNEL_DAYS = 90


@router.get("/success", response_class=HTMLResponse, include_in_schema=False)
def success_desk(
    request: Request, staff: CurrentStaff, session: SessionDep, mine: bool = Query(default=False)
) -> HTMLResponse:
    open_tasks = tasks.open_tasks(session, owner_id=staff.id if mine else None)
    open_signals = signals.list_signals(session)
    deliveries = webhooks.undelivered(session)
    since = utcnow() - timedelta(days=FUNNEL_DAYS)
    names = _customers.labels(session, {s.account_id for s in open_signals} | {d.account_id for d in deliveries})
    context = {
        "nav": "success",
        "mine": mine,
        "tasks": open_tasks,
        "signals": [{"signal": s, "customer": names[s.account_id]} for s in open_signals],
        "deliveries": [{"delivery": d, "customer": names[d.account_id]} for d in deliveries],
        "funnel": funnel.funnel(session, start=since),
        "funnel_days": FUNNEL_DAYS,
    }
    return render(request, "console_success.html", context)


@router.post("/success/tasks/{task_id}/done", include_in_schema=False, dependencies=SignedInForm)
def complete_task(
    request: Request, task_id: Annotated[int, Path(ge=1, le=2**63 - 1)], staff: CurrentStaff, session: SessionDep
) -> Response:
    done = tasks.complete(session, task_id)
    if done is None:
        return not_found(request, "open task")
    detail = {"account_id": done.account_id, "title": done.title}
    audit.record(session, staff, "task.complete", "task", done.id, detail, ip=client_address(request))
    session.commit()
    return redirect("/console/success")


@router.post("/success/signals/{signal_id}/resolve", include_in_schema=False, dependencies=SignedInForm)
def resolve_signal(
    request: Request,
    signal_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    staff: CurrentStaff,
    session: SessionDep,
    resolution: Annotated[str, Form(min_length=3, max_length=500)],
) -> Response:
    """A CSM closes a signal with what was done about it (the only way a chat cancellation request closes)."""
    if not signals.resolve(session, signal_id, staff.username, resolution.strip()):
        return not_found(request, "open churn signal")
    audit.record(
        session, staff, "signal.resolve", "churn_signal", signal_id, {"resolution": resolution.strip()},
        ip=client_address(request),
    )  # fmt: skip
    session.commit()
    return redirect("/console/success")
