"""The customer a gateway request proves: from a chat body (`token` or legacy `signature`) or an Authorization header.

No proof at all is an anonymous visitor (None). A proof that does not hold raises `IdentityRejected`, which the
routes answer with 401 (`unauthorized`): a host application with a broken integration hears about it instead of
its customers silently chatting as anonymous visitors.
"""

from typing import Annotated

from fastapi import Header, HTTPException, Request, status

from api.schemas import MAX_TOKEN_CHARS, ChatIn
from api.settings import Settings
from keepwell import identity
from keepwell.identity import IdentityRejected

__all__ = ["IdentityRejected", "customer_from_authorization", "customer_from_chat", "header_customer", "unauthorized"]

# "Signature " + a customer id (64) + ":" + 64 hex digits, or "Bearer " + a token: anything longer is not ours.
_MAX_AUTHORIZATION_CHARS = MAX_TOKEN_CHARS + 16
_STATIC_SIGNATURE_OFF = "static signatures are not accepted here; send a token"


def customer_from_chat(chat: ChatIn, settings: Settings) -> str | None:
    """The customer a chat message proves, None for an anonymous visitor.

    `token` proves its `sub` (and `customer_id`, when also sent, must be that `sub`); the legacy `signature` proves
    `customer_id` where static signatures are allowed; `customer_id` alone proves nothing.

    Raises:
        IdentityRejected: a proof was given (or a customer id claimed) and does not hold.
    """
    if chat.token is not None:
        customer_id = _from_token(chat.token, settings)
        if chat.customer_id is not None and chat.customer_id != customer_id:
            raise IdentityRejected("the token was issued for another customer than customer_id")
        return customer_id
    if chat.signature is not None and chat.customer_id is not None:
        return _from_signature(chat.customer_id, chat.signature, settings)
    if chat.customer_id is not None:
        proof = "a token or a signature" if settings.static_signature_allowed else "a token"
        raise IdentityRejected(f"customer_id needs {proof} proving it")
    return None


def customer_from_authorization(header: str | None, settings: Settings) -> str | None:
    """The customer an `Authorization` header proves (`Bearer <token>`, or the legacy `Signature <id>:<hex>`).

    No header (or an empty one) is an anonymous caller.

    Raises:
        IdentityRejected: the header is there and does not prove a customer.
    """
    if header is None or not header.strip():
        return None
    if len(header) > _MAX_AUTHORIZATION_CHARS:
        raise IdentityRejected("the Authorization header is too long")
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return _from_token(credentials, settings)
    if scheme.lower() == "signature" and settings.static_signature_allowed:
        # Customer ids may contain ":"; the hex signature never does.
        customer_id, separator, signature = credentials.rpartition(":")
        if not separator or not identity.is_customer_id(customer_id):
            raise IdentityRejected("the Authorization header must be `Signature <customer_id>:<signature>`")
        return _from_signature(customer_id, signature, settings)
    if scheme.lower() == "signature":
        raise IdentityRejected(_STATIC_SIGNATURE_OFF)
    raise IdentityRejected("the Authorization header must be `Bearer <token>`")


def header_customer(request: Request, authorization: Annotated[str | None, Header()] = None) -> str | None:
    """FastAPI dependency: the customer of the request's Authorization header; 401 when it does not hold."""
    try:
        return customer_from_authorization(authorization, request.app.state.settings)
    except IdentityRejected as error:
        raise unauthorized(error) from None


def unauthorized(error: IdentityRejected) -> HTTPException:
    """The 401 for a refused proof: the reason as the detail, and the challenge HTTP requires with a 401."""
    challenge = f'Bearer realm="keepwell", error="invalid_token", error_description="{error.reason}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, f"Identity refused: {error.reason}", headers={"WWW-Authenticate": challenge}
    )


def _from_token(token: str, settings: Settings) -> str:
    return identity.verify_token(token, settings.identity_secret, settings.identity_token_max_lifetime_s)


def _from_signature(customer_id: str, signature: str, settings: Settings) -> str:
    if not settings.static_signature_allowed:
        raise IdentityRejected(_STATIC_SIGNATURE_OFF)
    if not identity.verify(customer_id, signature, settings.identity_secret):
        raise IdentityRejected("the signature does not match customer_id")
    return customer_id
