"""Console: open and released handoffs, and giving a conversation back to the assistant (audited)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CurrentStaff, RasaDep, SessionDep, SignedInForm, client_address
from api.routes.console import _customers
from api.routes.console._pages import not_found, redirect, render, safe_next
from api.services.rasa import RasaUnavailable
from keepwell import audit, handoffs
from keepwell.handoffs import HandoffView

router = APIRouter(prefix="/console/handoffs", tags=["console"])


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def handoff_list(request: Request, staff: CurrentStaff, session: SessionDep) -> HTMLResponse:
    open_handoffs = handoffs.list_handoffs(session, status="open")
    released = handoffs.list_handoffs(session, status="released", limit=50)
    labels = _customers.labels(session, {h.customer_id for h in [*open_handoffs, *released]})

    def rows(items: list[HandoffView]) -> list[dict[str, Any]]:
        return [{"handoff": h, "customer": labels[h.customer_id]} for h in items]

    context = {"open_rows": rows(open_handoffs), "released_rows": rows(released), "nav": "handoffs"}
    return render(request, "console_handoffs.html", context)


@router.post("/{handoff_id}/release", include_in_schema=False, dependencies=SignedInForm)
async def release_handoff(
    request: Request,
    handoff_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    staff: CurrentStaff,
    session: SessionDep,
    rasa: RasaDep,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    released = handoffs.release(session, handoff_id, staff.username)
    if released is None:
        return not_found(request, "handoff")
    try:
        await rasa.resume(released.conversation_id)
    except RasaUnavailable:
        session.rollback()  # the handoff stays open: the bot is still paused
        raise HTTPException(503, "The assistant is unavailable; the handoff stays open. Try again shortly.") from None
    audit.record(
        session,
        staff,
        "handoff.release",
        "handoff",
        released.id,
        {"conversation_id": released.conversation_id},
        ip=client_address(request),
    )
    session.commit()
    return redirect(safe_next(next or f"/console/conversations/{released.conversation_id}"))
