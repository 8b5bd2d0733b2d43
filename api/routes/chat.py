"""`POST /api/chat`: the widget's single endpoint."""

from fastapi import APIRouter, HTTPException, Request, status

from api.deps import RasaDep, SessionDep, SettingsDep
from api.limiter import limiter
from api.schemas import ChatIn, ChatPublic
from api.services.chat import IdentityRejected, handle_turn, verified_customer
from api.services.conversations import ConversationForbidden, ConversationNotFound
from api.services.rasa import RasaUnavailable
from api.settings import get_settings

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat", response_model=ChatPublic)
@limiter.limit(lambda: get_settings().chat_rate_limit)
async def chat(request: Request, body: ChatIn, session: SessionDep, rasa: RasaDep, settings: SettingsDep) -> ChatPublic:
    try:
        customer_id = verified_customer(body, settings.identity_secret)
    except IdentityRejected:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "customer_id needs a valid signature: the hex HMAC-SHA256 of the id under the identity secret",
        ) from None
    try:
        return await handle_turn(session, rasa, body, customer_id)
    except ConversationNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "No such conversation; omit conversation_id to start one"
        ) from None
    except ConversationForbidden:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This conversation belongs to another identity") from None
    except RasaUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The assistant is unavailable right now; please try again shortly"
        ) from None
