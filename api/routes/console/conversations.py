"""Console: the conversation inbox (filters that combine, as query parameters, with the count that matches) and a
conversation's transcript with the customer beside it and its review (tags, notes, status), both read from the
gateway's conversation log. Opening a transcript is audited."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from api.deps import CurrentStaff, SessionDep, client_address
from api.routes.console._pages import NO_STORE, address, not_found, render
from api.routes.conversations import MAX_MESSAGE_ID
from keepwell import accounts, audit, handoffs, health_history, offer_catalogue, staff
from keepwell import conversations as log
from keepwell.conversations import filters, flag_filters, inbox, overview, review, saved_views, training
from keepwell.models import Customer, as_utc
from keepwell.models.conversations import REVIEW_STATUSES
from keepwell.models.success import HEALTH_BANDS
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLAN_LABELS, PLANS, segment_of

router = APIRouter(prefix="/console", tags=["console"])

PAGE_SIZE = inbox.PAGE_SIZE
SEGMENTS = {"Plan": PLANS, "Company size": COMPANY_SIZES, "Lifecycle stage": LIFECYCLE_STAGES}


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def conversations(
    request: Request,
    staff_user: CurrentStaff,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = 1,
    view: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    error = None
    try:
        chosen = filters.parse(request.query_params.multi_items())
    except filters.InvalidFilter as invalid:
        error, chosen = str(invalid), filters.InboxFilter()
    result = inbox.search(session, chosen, page) if error is None else inbox.InboxPage([], 0, 1, PAGE_SIZE)
    query = chosen.query_string()
    mine = saved_views.list_mine(session, staff_user.id)
    context = {
        "result": result,
        "rows": result.rows,
        "page": result.page,
        "has_next": result.has_next,
        "filter": chosen,
        "query": query,
        "error": error,
        "raw": dict(request.query_params),
        "choices": inbox.choices(session),
        "intents": [*training.domain_intents(), overview.FALLBACK_INTENT],
        "segments": SEGMENTS,
        "channels": filters.CHANNELS,
        "bands": HEALTH_BANDS,
        "review_statuses": REVIEW_STATUSES,
        "review_labels": review.REVIEW_LABELS,
        "saved_views": mine,
        "current_view": next((v for v in mine if v.id == view), None),
        "page_url": lambda n: address("/console", query, f"page={n}"),
        "low_confidence": overview.LOW_CONFIDENCE,
        "nav": "conversations",
    }
    return render(
        request, "console_conversations.html", context, status.HTTP_400_BAD_REQUEST if error else status.HTTP_200_OK
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse, include_in_schema=False)
def conversation(request: Request, conversation_id: str, staff_user: CurrentStaff, session: SessionDep) -> HTMLResponse:
    page = transcript_page(request, session, conversation_id)
    if page.status_code == status.HTTP_200_OK:
        # Who read which conversation: transcripts hold what customers said.
        audit.record(
            session, staff_user, "conversation.view", "conversation", conversation_id, ip=client_address(request)
        )
        session.commit()
    return page


@router.get("/conversations/{conversation_id}/messages.json", include_in_schema=False)
def new_messages(
    conversation_id: str,
    staff_user: CurrentStaff,
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
    review_error: str | None = None,
    note_draft: str = "",
) -> HTMLResponse:
    """The transcript with the customer, the handoff and the review beside it; `error` and `draft` re-show a
    refused reply, `review_error` and `note_draft` a refused tag, note, status or training example."""
    transcript = overview.transcript(session, conversation_id)
    if transcript is None:
        return not_found(request, "conversation")
    handoff = handoffs.for_conversations(session, [conversation_id]).get(conversation_id)
    customer_id = transcript.customer_id
    account = accounts.get_account(session, customer_id) if customer_id else None
    owner_id = session.get(Customer, customer_id).owner_csm_id if account and customer_id else None
    owner = staff.get(session, owner_id) if owner_id else None
    state = review.state(session, conversation_id)
    flagged = {flag.message_id: flag for flag in transcript.flags if flag.message_id is not None}
    context = {
        "conversation_id": conversation_id,
        "transcript": transcript,
        "flagged": flagged,
        "flag_labels": flag_filters.REASON_LABELS,
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
        "owner": owner,
        "review": state,
        "offer_titles": _offer_titles() if state.offers else {},
        "review_labels": review.REVIEW_LABELS,
        "review_statuses": REVIEW_STATUSES,
        "review_error": review_error,
        "note_draft": note_draft,
        "max_note": review.MAX_NOTE_CHARS,
        "examples": training.for_conversation(session, conversation_id),
        "intents": training.domain_intents(),
        "nav": "conversations",
    }
    return render(request, "console_transcript.html", context, status_code=status_code)


def _offer_titles() -> dict[str, str]:
    """Offer ids to their titles in the catalogue (an offer since removed from it shows its id)."""
    try:
        return {offer.id: offer.title for offer in offer_catalogue.load_catalogue()}
    except offer_catalogue.CatalogueError:
        return {}
