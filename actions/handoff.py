"""Handing the conversation to a person: record it with the transcript and pause the bot until a CSM releases it."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send
from actions.customer import verified_customer_id
from actions.escalation import OFFER_SLOT, session_events
from actions.settings import get_settings
from keepwell import handoffs
from keepwell.db import session_scope


def transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and bot messages of the conversation so far, as the CSM will read them."""
    lines = []
    for event in events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            lines.append(
                {"role": "user", "text": event.get("text") or "", "intent": intent.get("name"),
                 "confidence": intent.get("confidence"), "at": event.get("timestamp")}
            )  # fmt: skip
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"role": "bot", "text": event["text"], "at": event.get("timestamp")})
    return lines


def handoff_reason(tracker: Tracker) -> str:
    """Why the person is needed: the last thing the user asked that was not just a request for a person."""
    for event in reversed(session_events(tracker)):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in ("request_human", "affirm") and event.get("text"):
            return str(event["text"])[:500]
    return "Asked to talk to a person"


def _record(tracker: Tracker, customer_id: str | None) -> None:
    with session_scope(services.engine()) as session:
        handoffs.request_handoff(
            session,
            tracker.sender_id,
            customer_id,
            handoff_reason(tracker),
            transcript(tracker.events),
            settings=get_settings(),  # the webhook to notify; the gateway's sender posts it
        )


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id = verified_customer_id(tracker, get_settings().internal_secret)
        await asyncio.to_thread(_record, tracker, customer_id)  # database I/O off the event loop
        send(dispatcher, replies.Reply(replies.HANDOFF_CONFIRMATION))
        # Paused, Rasa still logs what the customer writes but predicts nothing until the console resumes it.
        return [SlotSet(OFFER_SLOT, False), ConversationPaused()]


class ActionAcknowledge(Action):
    """ "ok" after an answer: acknowledged, and any offer of a person is off the table (only a "yes" or the button
    accepts one), so a later "yes" is not read as accepting it."""

    def name(self) -> str:
        return "action_acknowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_acknowledged")
        return [SlotSet(OFFER_SLOT, False)]
