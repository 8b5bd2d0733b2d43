"""The gateway's internal assertion to the action server: "this conversation's customer is X", short-lived.

The customer's own proof (token or signature) never leaves the gateway. Once it has verified it, the gateway signs a
short HS256 JWT under the internal secret, which only the gateway and the action server know, bound to one
conversation and to the action server as audience. It travels in the Rasa message metadata, so it ends up in Rasa's
tracker store: it is useless there once expired, and never usable against the gateway.
"""

import logging
import time
from typing import Any

import jwt

from keepwell.identity import is_customer_id
from keepwell.settings import CoreSettings

AUDIENCE = "keepwell-actions"
ALGORITHM = "HS256"
# The gateway and the action server run side by side; their clocks agree closely.
LEEWAY_S = 10.0

_log = logging.getLogger(__name__)


def assert_customer(customer_id: str, conversation_id: str, secret: str, ttl_s: int, now: float | None = None) -> str:
    """Sign that `customer_id` is the verified customer of `conversation_id`, for `ttl_s` seconds from `now`."""
    if not is_customer_id(customer_id):
        raise ValueError(f"not a customer id: {customer_id!r}")
    issued = int(time.time() if now is None else now)
    claims = {"sub": customer_id, "cid": conversation_id, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_assertion(assertion: object, conversation_id: str, secret: str) -> str | None:
    """The customer id asserted for `conversation_id`, or None when the assertion does not hold.

    Refused: another secret or algorithm, another audience, another conversation, expired, issued in the future,
    or a claim missing or malformed. The reason is logged, never the assertion.
    """
    if not isinstance(assertion, str) or not assertion:
        return None
    try:
        claims = jwt.decode(
            assertion,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "cid", "aud", "iat", "exp"], "strict_aud": True},
            leeway=LEEWAY_S,
        )
    except jwt.InvalidTokenError as error:
        _log.warning("internal assertion refused: %s", error)
        return None
    if claims["cid"] != conversation_id:
        _log.warning("internal assertion refused: it was issued for another conversation")
        return None
    if not is_customer_id(claims["sub"]):
        _log.warning("internal assertion refused: its sub is not a customer id")
        return None
    return str(claims["sub"])


def customer_metadata(customer_id: str | None, conversation_id: str, settings: CoreSettings) -> dict[str, Any] | None:
    """The `"customer"` part of the metadata the gateway sends to Rasa: the id and a fresh assertion, or None.

    Build it when the message is sent (also when it is sent again later), never store it: it expires.
    """
    if customer_id is None:
        return None
    assertion = assert_customer(
        customer_id, conversation_id, settings.internal_secret, settings.internal_assertion_ttl_seconds
    )
    return {"id": customer_id, "assertion": assertion}
