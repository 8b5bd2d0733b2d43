"""Console: the flagged queue (conversations a CSM should look at, most valuable accounts first, each reason in plain
words) and resolving an entry with an optional note, audited as `flag.resolve`."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CurrentStaff, SessionDep, SignedInForm, client_address
from api.routes.console._pages import flash, not_found, redirect, render
from keepwell import audit
from keepwell.conversations import flag_queue

router = APIRouter(prefix="/console/flags", tags=["console"])

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
# Longer than the service keeps, so an over-long note gets a clear message rather than a bare 422.
NoteText = Annotated[str, Form(max_length=flag_queue.MAX_NOTE_CHARS * 2)]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def flag_list(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=flag_queue.MAX_PAGE)] = 1,
) -> HTMLResponse:
    queue = flag_queue.queue(session, page=page)
    return render(request, "console_flags.html", {"queue": queue, "nav": "flags"})


@router.post("/{conversation_id}/resolve", include_in_schema=False, dependencies=SignedInForm)
def resolve(
    request: Request,
    conversation_id: ConversationId,
    staff: CurrentStaff,
    session: SessionDep,
    note: NoteText = "",
    page: Annotated[int, Form(ge=1, le=flag_queue.MAX_PAGE)] = 1,
) -> Response:
    back = "/console/flags" if page == 1 else f"/console/flags?page={page}"
    note = note.strip()
    if len(note) > flag_queue.MAX_NOTE_CHARS:
        flash(request, f"The note is too long: at most {flag_queue.MAX_NOTE_CHARS} characters.")
        return redirect(back)
    try:
        closed = flag_queue.resolve(session, conversation_id, staff.username, note)
    except flag_queue.FlagNotFound:
        session.rollback()
        return not_found(request, "conversation")
    audit.record(
        session, staff, "flag.resolve", "conversation", conversation_id, {"note": note, "flags_closed": closed},
        ip=client_address(request),
    )  # fmt: skip
    session.commit()
    flash(request, "Resolved: the conversation is off the queue until something new happens in it.")
    return redirect(back)
