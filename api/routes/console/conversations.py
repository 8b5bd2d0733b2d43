"""Console: the conversation list and a conversation's transcript with the customer beside it, both read from the
gateway's conversation log."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from api.deps import CurrentStaff, SessionDep
from api.routes.console import _customers
from api.routes.console._pages import NO_STORE, not_found, render
from api.routes.conversations import MAX_MESSAGE_ID
from keepwell import accounts, handoffs, health_history
from keepwell import conversations as log
from keepwell.conversations import overview
from keepwell.models import as_utc
from keepwell.segments import PLAN_LABELS, segment_of

router = APIRouter(prefix="/console", tags=["console"])

PAGE_SIZE = 25


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def conversations(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    # One row more than a page tells whether there is a next page without counting everything.
    summaries = overview.list_conversations(session, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    has_next = len(summaries) > PAGE_SIZE
    summaries = summaries[:PAGE_SIZE]
    ids = [s.conversation_id for s in summaries]
    handoff_by_conversation = handoffs.for_conversations(session, ids) if ids else {}
    labels = _customers.labels(session, {s.customer_id for s in summaries})
    rows = [
        {
            "summary": summary,
            "customer": labels[summary.customer_id],
            "handoff": handoff_by_conversation.get(summary.conversation_id),
        }
        for summary in summaries
    ]
    return render(
        request,
        "console_conversations.html",
        {"rows": rows, "page": page, "has_next": has_next, "nav": "conversations"},
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse, include_in_schema=False)
def conversation(request: Request, conversation_id: str, staff: CurrentStaff, session: SessionDep) -> HTMLResponse:
    return transcript_page(request, session, conversation_id)


@router.get("/conversations/{conversation_id}/messages.json", include_in_schema=False)
def new_messages(
    conversation_id: str,
    staff: CurrentStaff,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID)] = 0,
) -> JSONResponse:
    """Messages logged after `after`, for the transcript page to show live during a handoff (it polls this), and
    the handoff's status (the page reloads when another CSM closes or takes it)."""
    try:
        log.owner(session, conversation_id)
    except log.ConversationNotFound:
        return JSONResponse({"detail": "No such conversation"}, status_code=404, headers=NO_STORE)
    handoff = handoffs.for_conversations(session, [conversation_id]).get(conversation_id)
    data = [
        {
            "id": m.id,
            "role": m.role,
            "text": m.text,
            "author": m.author_name,
            "kind": m.kind,
            "state": m.state,
            "created_at": as_utc(m.created_at).isoformat(),
        }
        for m in log.messages(session, conversation_id, after_id=after, limit=200)
    ]
    state = {"id": handoff.id, "status": handoff.status, "assigned_to_id": handoff.assigned_to_id} if handoff else None
    return JSONResponse({"data": data, "handoff": state}, headers=NO_STORE)


def transcript_page(
    request: Request,
    session: Session,
    conversation_id: str,
    *,
    error: str | None = None,
    draft: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The transcript with the customer and the handoff beside it; `error` and `draft` re-show a refused reply."""
    transcript = overview.transcript(session, conversation_id)
    if transcript is None:
        return not_found(request, "conversation")
    handoff = handoffs.for_conversations(session, [conversation_id]).get(conversation_id)
    customer_id = transcript.customer_id
    account = accounts.get_account(session, customer_id) if customer_id else None
    flagged = {flag.message_id: flag for flag in transcript.flags if flag.message_id is not None}
    context = {
        "conversation_id": conversation_id,
        "transcript": transcript,
        "flagged": flagged,
        "low_confidence": overview.LOW_CONFIDENCE,
        "customer_id": customer_id,
        "account": account,
        "plan_label": PLAN_LABELS.get(account.plan, account.plan) if account else None,
        "segment": segment_of(account).label if account else None,
        "health": health_history.assess(session, account) if account else None,
        "handoff": handoff,
        "last_message_id": transcript.messages[-1].id if transcript.messages else 0,
        "reply_error": error,
        "draft": draft,
        "max_reply": handoffs.MAX_REPLY_CHARS,
        "nav": "conversations",
    }
    return render(request, "console_transcript.html", context, status_code=status_code)
