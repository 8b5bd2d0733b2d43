"""A conversation's messages for the widget: its history, and a live stream of new messages (server-sent events).

Anonymous conversations: the unguessable conversation id is the capability. A signed-in customer's conversation also
needs the same proof as chat, as `Authorization: Bearer <token>`.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from api.deps import LiveDep, SessionDep, SettingsDep, client_address, get_session
from api.openapi import RETRY_AFTER, WWW_AUTHENTICATE
from api.schemas import ConversationPublic, CsatIn, CsatPublic, ErrorPublic, MessagesPublic
from api.services.identity import header_customer
from api.services.messages import public_message
from api.services.rate_limits import chat_identity_key, enforce_chat_limits
from keepwell import conversations as log
from keepwell import csat, handoffs
from keepwell.db import session_factory

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

CONVERSATION_ID = Path(pattern=r"^[A-Za-z0-9_-]{32}$", description="The id `POST /api/chat` returned")
# A stream ends after this long (the client reconnects with Last-Event-ID): no connection is held forever.
STREAM_SECONDS = 300.0
# Without a signal the stream still looks at the log this often (a lost signal costs at most this much delay).
POLL_SECONDS = 10.0
# The highest message id a client may name (`after`, Last-Event-ID): far above any real id, and within SQLite's
# 64-bit integers (a larger number in a query is an OverflowError, a 500).
MAX_MESSAGE_ID = 2**53
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorPublic,
        "description": "The Authorization header does not prove a customer",
        "headers": WWW_AUTHENTICATE,
    },
    403: {"model": ErrorPublic, "description": "The conversation belongs to another identity"},
    404: {"model": ErrorPublic, "description": "No such conversation"},
}
# One event of the stream: `message`, the message id as event id, and the MessagePublic as JSON in its data.
_MESSAGE_EVENT = {
    "type": "object",
    "required": ["event", "id", "data"],
    "properties": {
        "event": {"const": "message"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/MessagePublic"},
        },
    },
}


def owned_conversation(
    conversation_id: Annotated[str, CONVERSATION_ID],
    session: Annotated[Session, Depends(get_session)],
    customer_id: Annotated[str | None, Depends(header_customer)],
) -> str:
    """The conversation id, once the caller is shown to be the identity that owns it."""
    try:
        owner = log.owner(session, conversation_id)
    except log.ConversationNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such conversation") from None
    if not secrets.compare_digest(owner or "", customer_id or ""):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This conversation belongs to another identity")
    return conversation_id


OwnedConversation = Annotated[str, Depends(owned_conversation)]
Customer = Annotated[str | None, Depends(header_customer)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationPublic,
    responses={
        401: _ERRORS[401],
        429: {"model": ErrorPublic, "description": "Too many requests", "headers": RETRY_AFTER},
    },
)
def start(request: Request, customer_id: Customer, session: SessionDep, settings: SettingsDep) -> ConversationPublic:
    """Start an empty conversation for the caller (anonymous, or the customer `Authorization` proves).

    The widget does this before its first message, so that every message, the first included, names its
    conversation and can be resent safely with the same `message_id`.
    """
    enforce_chat_limits(
        request.app.state.rate_limiter, settings, client_address(request), chat_identity_key(customer_id, None)
    )
    conversation = log.start_conversation(session, customer_id, "in_app" if customer_id else "website")
    session.commit()
    return ConversationPublic(conversation_id=conversation.id)


@router.get("/{conversation_id}/messages", response_model=MessagesPublic, responses=_ERRORS)
def history(
    conversation_id: OwnedConversation,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID, description="Only messages with a higher id")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> MessagesPublic:
    """The conversation's messages, oldest first: what the widget shows after a reload or on another device."""
    data = [public_message(m) for m in log.messages(session, conversation_id, after_id=after, limit=limit)]
    return MessagesPublic(conversation_id=conversation_id, data=data, count=len(data))


@router.post(
    "/{conversation_id}/csat",
    response_model=CsatPublic,
    responses={
        **_ERRORS,
        409: {"model": ErrorPublic, "description": "No CSAT question waits for an answer (none asked, or answered)"},
        429: {"model": ErrorPublic, "description": "Too many requests", "headers": RETRY_AFTER},
    },
)
def answer_csat(
    request: Request,
    conversation_id: OwnedConversation,
    body: CsatIn,
    customer_id: Customer,
    session: SessionDep,
    settings: SettingsDep,
) -> CsatPublic:
    """Answer the CSAT question a person asked when closing the handoff (once per closed handoff)."""
    enforce_chat_limits(
        request.app.state.rate_limiter,
        settings,
        client_address(request),
        chat_identity_key(customer_id, conversation_id),
    )
    try:
        answered = csat.answer_csat(session, conversation_id, body.score, body.comment)
    except csat.NoSurvey as error:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except handoffs.InvalidText as error:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    session.commit()
    return CsatPublic(
        conversation_id=conversation_id, score=answered.csat_score or body.score, comment=answered.csat_comment
    )


@router.get(
    "/{conversation_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`message` events, each a MessagePublic as JSON with the message id as event id",
            # One event (the reading of `schema` for event streams before OpenAPI 3.2's `itemSchema`).
            "content": {"text/event-stream": {"schema": _MESSAGE_EVENT}},
        },
        **_ERRORS,
    },
)
async def events(
    conversation_id: OwnedConversation,
    live: LiveDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID, description="Send messages with a higher id")] = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> EventSourceResponse:
    """New messages as they are logged: late answers after a notice, a person's replies. Resumes after
    `Last-Event-ID` (or `after`) and ends after a few minutes; the client reconnects."""
    start = resume_point(after, last_event_id)
    engine = session.get_bind()
    session.close()  # the stream reads with short sessions of its own; don't hold this one for minutes
    return EventSourceResponse(
        _stream(conversation_id, start, live, session_factory(engine)),  # type: ignore[arg-type]
        ping=15,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def resume_point(after: int, last_event_id: str | None) -> int:
    """Where a stream starts: after `after` or after the client's Last-Event-ID, whichever is later.

    A Last-Event-ID that is not ASCII digits is ignored (isdigit() would also take "²", which int() refuses); one
    above MAX_MESSAGE_ID counts as MAX_MESSAGE_ID.
    """
    resume = int(last_event_id) if last_event_id and last_event_id.isascii() and last_event_id.isdecimal() else 0
    return max(after, min(resume, MAX_MESSAGE_ID))


async def _stream(conversation_id: str, after: int, live: Any, sessions: Any) -> AsyncIterator[dict[str, str]]:
    def read(since: int) -> list[log.MessageView]:
        with sessions() as session:
            return log.messages(session, conversation_id, after_id=since, limit=100)

    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    async with live.subscribe(conversation_id) as signals:
        while loop.time() < ends:
            for message in await asyncio.to_thread(read, after):
                after = message.id
                yield {"event": "message", "id": str(message.id), "data": public_message(message).model_dump_json()}
            await signals.wait(min(POLL_SECONDS, max(0.0, ends - loop.time())))
