"""Console: the flagged queue (conversations a CSM should look at, most valuable accounts first, each reason in plain
words, filtered by a reason and "mine" in the URL) and resolving an entry with an optional note, audited as
`flag.resolve`."""

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from api.deps import CurrentStaff, SessionDep, SignedInForm, client_address
from api.routes.console._pages import address, flash, not_found, redirect, render
from keepwell import audit
from keepwell.conversations import flag_filters, flag_queue
from keepwell.conversations.filters import InvalidFilter

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
    error = None
    try:
        chosen = flag_filters.parse(request.query_params.multi_items())
    except InvalidFilter as invalid:
        error, chosen = str(invalid), flag_filters.QueueFilter()
    if error is None:
        queue = flag_queue.queue(session, page=page, chosen=chosen, me=staff.id)
    else:
        queue = flag_queue.QueuePage([], 0, 1, flag_queue.PAGE_SIZE)
    query = chosen.query_string()
    context = {
        "queue": queue,
        "filter": chosen,
        "query": query,
        "error": error,
        "reasons": flag_filters.REASON_LABELS,
        "page_url": lambda n: _url(query, n),
        "nav": "flags",
    }
    return render(request, "console_flags.html", context, status.HTTP_400_BAD_REQUEST if error else status.HTTP_200_OK)


def _url(query: str, page: int = 1) -> str:
    """The queue's address with its filters and page."""
    return address("/console/flags", query, f"page={page}" if page > 1 else "")


@router.post("/{conversation_id}/resolve", include_in_schema=False, dependencies=SignedInForm)
def resolve(
    request: Request,
    conversation_id: ConversationId,
    staff: CurrentStaff,
    session: SessionDep,
    note: NoteText = "",
    page: Annotated[int, Form(ge=1, le=flag_queue.MAX_PAGE)] = 1,
    query: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:  # back to the same filtered view; a tampered filter goes back to the whole queue
        back = _url(flag_filters.parse(parse_qsl(query)).query_string(), page)
    except InvalidFilter:
        back = "/console/flags"
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
