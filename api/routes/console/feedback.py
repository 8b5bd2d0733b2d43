"""Console: product feedback customers gave the assistant, newest first."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import CurrentStaff, SessionDep
from api.routes.console import _customers
from api.routes.console._pages import render
from keepwell import feedback

router = APIRouter(prefix="/console", tags=["console"])


@router.get("/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_list(request: Request, staff: CurrentStaff, session: SessionDep) -> HTMLResponse:
    items = feedback.list_feedback(session, limit=200)
    labels = _customers.labels(session, {item.customer_id for item in items})
    rows = [{"feedback": item, "customer": labels[item.customer_id]} for item in items]
    return render(request, "console_feedback.html", {"rows": rows, "nav": "feedback"})
