"""`POST /api/chat`: the widget sends a customer message and gets the bot's answer, or an honest notice."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from api.deps import SettingsDep, TurnsDep, client_address
from api.openapi import RETRY_AFTER, WWW_AUTHENTICATE
from api.schemas import ChatIn, ChatPublic, ErrorPublic
from api.services.identity import IdentityRejected, customer_from_chat, unauthorized
from api.services.messages import public_message
from api.services.rate_limits import chat_identity_key, enforce_chat_limits
from keepwell.conversations import ConversationForbidden, ConversationNotFound, MessageIdConflict

router = APIRouter(prefix="/api", tags=["chat"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorPublic, "description": description}
    for code, description in {
        401: "A customer proof was given and does not hold (expired, tampered, another customer ...)",
        403: "The conversation belongs to another identity",
        404: "No such conversation",
        409: "The message_id was used before in this conversation for another text",
        429: "Too many messages; the Retry-After header says when to try again",
    }.items()
}
_ERRORS[401]["headers"] = WWW_AUTHENTICATE
_ERRORS[429]["headers"] = RETRY_AFTER
# The conversation an answer names can be read back: its history and its live stream (OpenAPI links).
_CONVERSATION = {"conversation_id": "$response.body#/conversation_id"}
_LINKS = {
    "history": {
        "operationRef": "#/paths/~1api~1conversations~1{conversation_id}~1messages/get",
        "parameters": _CONVERSATION,
    },
    "events": {
        "operationRef": "#/paths/~1api~1conversations~1{conversation_id}~1events/get",
        "parameters": _CONVERSATION,
    },
}


@router.post("/chat", response_model=ChatPublic, responses={200: {"links": _LINKS}, **_ERRORS})
async def chat(request: Request, body: ChatIn, turns: TurnsDep, settings: SettingsDep) -> ChatPublic:
    """Log the message, then answer it within the reply deadline or give the notice (the answer then follows on
    the conversation's event stream). A retry with the same `message_id` returns the stored outcome: one turn."""
    try:
        customer_id = customer_from_chat(body, settings)
    except IdentityRejected as error:
        raise unauthorized(error) from None
    # Rate limits (H5), once the identity is known: per signed-in customer or anonymous conversation, and per
    # client address (the real client behind a trusted proxy). Raises RateLimited: 429 with Retry-After.
    enforce_chat_limits(
        request.app.state.rate_limiter,
        settings,
        client_address(request),
        chat_identity_key(customer_id, body.conversation_id),
    )
    try:
        outcome = await turns.handle(
            conversation_id=body.conversation_id,
            customer_id=customer_id,
            text=body.message,
            client_message_id=body.message_id,
            channel="in_app" if customer_id else "website",
        )
    except ConversationNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "No such conversation; omit conversation_id to start one"
        ) from None
    except ConversationForbidden:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This conversation belongs to another identity") from None
    except MessageIdConflict:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "This message_id was already used for another message; generate a new one"
        ) from None
    return ChatPublic(
        conversation_id=outcome.message.conversation_id,
        message=public_message(outcome.message),
        messages=[public_message(reply) for reply in outcome.replies],
    )
