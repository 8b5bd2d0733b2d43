"""The signed-in customer of a conversation, taken only from the gateway's internal assertion in the metadata."""

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker

from actions import services
from actions.replies import ACCOUNT_NOT_FOUND, HANDOFF_BUTTON, SIGN_IN_INVITATION, Reply
from actions.settings import get_settings
from keepwell import accounts, assertions
from keepwell.db import session_scope


def verified_customer_id(tracker: Tracker, internal_secret: str) -> str | None:
    """The customer the gateway asserted for this conversation in the latest message's metadata; else None.

    Only a valid internal assertion (under the internal secret, for the action server, for this very conversation,
    not expired) counts. Anything else (a customer token or signature, a bare id, an expired assertion or one for
    another conversation) is an anonymous visitor: a message that reached Rasa without the gateway, or an old
    assertion read from the tracker store, cannot claim an identity. What the user typed is never consulted.
    """
    metadata = tracker.latest_message.get("metadata")
    customer = metadata.get("customer") if isinstance(metadata, dict) else None
    if not isinstance(customer, dict):
        return None
    customer_id = assertions.verify_assertion(customer.get("assertion"), tracker.sender_id, internal_secret)
    if customer_id is None or customer.get("id") not in (None, customer_id):
        return None
    return customer_id


def logged_message_id(message: dict[str, Any]) -> int | None:
    """The id the gateway's message log gave a message (a user event, or the latest message), from the metadata it
    sends with it; None for a message that reached Rasa without the gateway."""
    metadata = message.get("metadata")
    keepwell = metadata.get("keepwell") if isinstance(metadata, dict) else None
    message_id = keepwell.get("message_id") if isinstance(keepwell, dict) else None
    return message_id if isinstance(message_id, int) else None


def current_account(tracker: Tracker) -> tuple[str | None, accounts.Account | None]:
    """The verified customer id (None when anonymous) and their account (None when unknown)."""
    customer_id = verified_customer_id(tracker, get_settings().internal_secret)
    if customer_id is None:
        return None, None
    with session_scope(services.engine()) as session:
        return customer_id, accounts.get_account(session, customer_id)


async def account_reply(tracker: Tracker, compose: Callable[[accounts.Account], Reply]) -> Reply:
    """A reply about the signed-in customer's account, or an invitation to sign in, or a person when it is unknown."""
    customer_id, account = await asyncio.to_thread(current_account, tracker)  # database I/O off the event loop
    if customer_id is None:
        return Reply(SIGN_IN_INVITATION)
    if account is None:
        return Reply(ACCOUNT_NOT_FOUND, buttons=[HANDOFF_BUTTON])
    return await asyncio.to_thread(compose, account)  # a compose may read or record in the database
