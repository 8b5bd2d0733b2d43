"""Console: the handoff queue (refreshed by the page without reload), and a CSM's live actions on a handoff: reply,
take over, close (which asks the customer the CSAT question) and release to the assistant; each one is audited."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from api.deps import (
    CurrentStaff,
    HandoffWebhooksDep,
    LiveDep,
    RasaDep,
    SessionDep,
    SettingsDep,
    SignedInForm,
    client_address,
)
from api.routes.console import _customers
from api.routes.console._pages import NO_STORE, flash, not_found, redirect, render, safe_next
from api.routes.console.conversations import transcript_page
from api.services.rasa import RasaClient, RasaUnavailable
from keepwell import audit, handoffs
from keepwell.handoffs import HandoffError, HandoffNotFound, HandoffView
from keepwell.models import utcnow
from keepwell.staff import StaffView

router = APIRouter(prefix="/console/handoffs", tags=["console"])

HandoffId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# A form field a little longer than a reply may be, so an over-long reply gets the service's clear message
# (with the draft kept) rather than a bare 422.
ReplyText = Annotated[str, Form(max_length=handoffs.MAX_REPLY_CHARS * 2)]


def waiting(since: datetime, now: datetime) -> str:
    """How long a customer has waited, as a queue shows it: "under a minute", "12 min", "2 h 5 min", "3 d 4 h"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _queue_of(handoff: HandoffView, staff: StaffView) -> str:
    if handoff.assigned_to_id is None:
        return "shared"
    return "mine" if handoff.assigned_to_id == staff.id else "others"


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def handoff_list(request: Request, staff: CurrentStaff, session: SessionDep) -> HTMLResponse:
    open_handoffs = handoffs.list_handoffs(session, status=handoffs.OPEN, oldest_first=True)
    done = [h for h in handoffs.list_handoffs(session, limit=100) if not h.is_open][:50]
    labels = _customers.labels(session, {h.customer_id for h in [*open_handoffs, *done]})
    now = utcnow()

    def rows(items: list[HandoffView]) -> list[dict[str, Any]]:
        return [
            {"handoff": h, "customer": labels[h.customer_id], "queue": _queue_of(h, staff),
             "waiting": waiting(h.created_at, now)}
            for h in items
        ]  # fmt: skip

    context = {"open_rows": rows(open_handoffs), "released_rows": rows(done), "nav": "handoffs"}
    return render(request, "console_handoffs.html", context)


@router.get("/queue.json", include_in_schema=False)
def queue(staff: CurrentStaff, session: SessionDep) -> JSONResponse:
    """The open handoffs for the console's queue, longest wait first, polled by every console page (a few hundred
    bytes)."""
    open_handoffs = handoffs.list_handoffs(session, status=handoffs.OPEN, oldest_first=True)
    now = utcnow()
    labels = _customers.labels(session, {h.customer_id for h in open_handoffs})
    items = [
        {
            "id": h.id,
            "conversation_id": h.conversation_id,
            "url": f"/console/conversations/{h.conversation_id}",
            "customer": labels[h.customer_id].name,
            "kind": h.kind,
            "kind_label": h.kind_label,
            "reason": h.reason,
            "queue": _queue_of(h, staff),
            "assigned_to": h.assigned_to_name,
            "created_at": h.created_at.isoformat(),
            "waiting": waiting(h.created_at, now),
            "release_url": f"/console/handoffs/{h.id}/release",
        }
        for h in open_handoffs
    ]
    mine = sum(1 for item in items if item["queue"] in ("mine", "shared"))
    return JSONResponse({"data": items, "count": len(items), "for_me": mine}, headers=NO_STORE)


def _refused(request: Request, session: Session, error: HandoffError, handoff_id: int) -> Response:
    """A refused action: nothing was written; the CSM sees why on the conversation page."""
    session.rollback()
    found = handoffs.get(session, handoff_id)
    if isinstance(error, HandoffNotFound) or found is None:
        return not_found(request, "handoff")
    flash(request, str(error))
    return redirect(f"/console/conversations/{found.conversation_id}")


@router.post("/{handoff_id}/reply", include_in_schema=False, dependencies=SignedInForm)
async def reply(
    request: Request,
    handoff_id: HandoffId,
    staff: CurrentStaff,
    session: SessionDep,
    live: LiveDep,
    settings: SettingsDep,
    notifier: HandoffWebhooksDep,
    text: ReplyText = "",
) -> Response:
    # The service acts first (its first statement takes the lock); the handoff is read for the page only on refusal.
    try:
        message, handoff = handoffs.reply(session, handoff_id, staff, text, settings)
    except handoffs.InvalidText as error:
        session.rollback()
        found = handoffs.get(session, handoff_id)
        if found is None:
            return not_found(request, "handoff")
        # The draft comes back in the form: a refused reply loses nothing the CSM typed.
        return transcript_page(request, session, found.conversation_id, error=str(error), draft=text, status_code=422)
    except HandoffError as error:
        return _refused(request, session, error, handoff_id)
    audit.record(
        session,
        staff,
        "handoff.reply",
        "handoff",
        handoff.id,
        {"conversation_id": handoff.conversation_id, "message_id": message.id},
        ip=client_address(request),
    )
    session.commit()
    notifier.wake()  # a reply from the shared queue assigned the handoff
    await live.publish(handoff.conversation_id)  # the customer's open widget shows it now
    return redirect(f"/console/conversations/{handoff.conversation_id}#reply")


@router.post("/{handoff_id}/take-over", include_in_schema=False, dependencies=SignedInForm)
def take_over(
    request: Request,
    handoff_id: HandoffId,
    staff: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
    notifier: HandoffWebhooksDep,
) -> Response:
    try:
        handoff, previous = handoffs.take_over(session, handoff_id, staff, settings)
    except HandoffError as error:
        return _refused(request, session, error, handoff_id)
    audit.record(
        session,
        staff,
        "handoff.take_over",
        "handoff",
        handoff.id,
        {"conversation_id": handoff.conversation_id, "from_staff_id": previous, "to_staff_id": staff.id},
        ip=client_address(request),
    )
    session.commit()
    notifier.wake()
    flash(request, "You have this conversation now.")
    return redirect(f"/console/conversations/{handoff.conversation_id}")


async def _resume(rasa: RasaClient, handoff: HandoffView) -> None:
    """Let the bot answer in the conversation again. The gateway's own "assistant unavailable" handoff never paused
    Rasa (the customer's messages since were held, not processed), so it closes even while the assistant is still
    down; it is resumed anyway when Rasa answers, in case a turn finished late with a pause."""
    try:
        await rasa.resume(handoff.conversation_id)
    except RasaUnavailable:
        if handoff.kind != handoffs.ASSISTANT_UNAVAILABLE:
            raise


@router.post("/{handoff_id}/close", include_in_schema=False, dependencies=SignedInForm)
async def close(
    request: Request, handoff_id: HandoffId, staff: CurrentStaff, session: SessionDep, rasa: RasaDep, live: LiveDep
) -> Response:
    try:
        handoff, question = handoffs.close(session, handoff_id, staff)
    except HandoffError as error:
        return _refused(request, session, error, handoff_id)
    try:
        # Closed, the conversation is the assistant's again: Rasa must stop ignoring it, or the customer's next
        # message would get no answer.
        await _resume(rasa, handoff)
    except RasaUnavailable:
        session.rollback()  # still open, no question asked
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The assistant is unavailable; the handoff stays open. Try again."
        ) from None
    audit.record(
        session,
        staff,
        "handoff.close",
        "handoff",
        handoff.id,
        {"conversation_id": handoff.conversation_id, "csat_message_id": question.id},
        ip=client_address(request),
    )
    session.commit()
    await live.publish(handoff.conversation_id)
    flash(request, "Handoff closed; the customer is asked to rate the help they got.")
    return redirect(f"/console/conversations/{handoff.conversation_id}")


@router.post("/{handoff_id}/release", include_in_schema=False, dependencies=SignedInForm)
async def release_handoff(
    request: Request,
    handoff_id: HandoffId,
    staff: CurrentStaff,
    session: SessionDep,
    rasa: RasaDep,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    released = handoffs.release(session, handoff_id, staff.username)
    if released is None:
        return not_found(request, "handoff")
    try:
        await _resume(rasa, released)
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
