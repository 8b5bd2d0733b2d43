"""The signed-in customer of a conversation, taken only from metadata the gateway verified and signed."""

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker

from actions import services
from actions.replies import ACCOUNT_NOT_FOUND, HANDOFF_BUTTON, SIGN_IN_INVITATION, Reply
from actions.settings import get_settings
from keepwell import accounts, identity
from keepwell.db import session_scope


def verified_customer_id(tracker: Tracker, secret: str) -> str | None:
    """The customer id from the latest message's metadata, if its signature verifies; else None (anonymous).

    What the user typed is never consulted: only the gateway writes metadata, and the signature is checked
    again here so a message that reached Rasa another way cannot claim an identity.
    """
    metadata: dict[str, Any] = tracker.latest_message.get("metadata") or {}
    customer = metadata.get("customer")
    if not isinstance(customer, dict):
        return None
    customer_id, signature = customer.get("id"), customer.get("signature")
    if not isinstance(customer_id, str) or not isinstance(signature, str):
        return None
    return customer_id if identity.verify(customer_id, signature, secret) else None


def current_account(tracker: Tracker) -> tuple[str | None, accounts.Account | None]:
    """The verified customer id (None when anonymous) and their account (None when unknown)."""
    customer_id = verified_customer_id(tracker, get_settings().identity_secret)
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
    return compose(account)
