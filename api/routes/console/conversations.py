"""Console: the conversation list and a conversation's transcript with the customer beside it, both read from the
gateway's conversation log."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CurrentStaff, SessionDep
from api.routes.console import _customers
from api.routes.console._pages import not_found, render
from keepwell import accounts, handoffs, health_history
from keepwell.conversations import overview
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
        "nav": "conversations",
    }
    return render(request, "console_transcript.html", context)
