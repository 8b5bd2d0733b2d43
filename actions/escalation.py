"""The offer of a person after an answer: reads the conversation off the tracker, asks `keepwell.escalation` whether
and why, and words the offer. Offered once per conversation; the customer's "yes" (or the button) hands over.
What a CSM should see is written whether or not a person is offered: a flag on the conversation for the reasons in
`escalation.FLAGGED`, negative feedback on an answer the customer says did not help."""

import asyncio
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions import services
from actions.customer import current_account, health_of, logged_message_id, verified_customer_id
from actions.replies import HANDOFF_BUTTON, Reply
from actions.settings import get_settings
from keepwell import conversations as log
from keepwell import escalation, feedback
from keepwell.db import session_scope
from keepwell.escalation import Turn

logger = logging.getLogger(__name__)

# Set by every answer that could go unhelped (knowledge base, churn moments): whether this answer missed.
UNHELPFUL_SLOT = "answer_unhelpful"
# Set by every offer of a person and cleared by the next answer: a "yes" right after it accepts (bot/rules).
OFFER_SLOT = "handoff_offered"
DECLINE_BUTTON = {"title": "No thanks", "payload": "/deny"}

OFFERS = {
    escalation.FRUSTRATION: (
        "I'm sorry this has been frustrating. Would you like a person from our team to take it from here? "
        "They'll reply right in this chat."
    ),
    escalation.REPEATED_QUESTION: (
        "It looks like I haven't got you there yet. Would you like a person from our team to help with this?"
    ),
    escalation.UNHELPFUL_ANSWERS: (
        "I haven't been able to answer this well. Shall I bring in a person from our team? They'll reply right here."
    ),
    escalation.AT_RISK_ACCOUNT: (
        "I couldn't answer that well. Shall I bring in a person from our team? They'll reply right here."
    ),
    escalation.PROBLEM_REPORTED: (
        "If that doesn't sort it out, a person from our team can look into it with you. Shall I bring someone in?"
    ),
    escalation.STILL_BROKEN: (
        "Let me bring in a person from our team to look into it with you. Shall I? They'll reply right here."
    ),
    escalation.CHURN_MOMENT: (
        "Before you decide: would you like to talk it through with a person from our team? They can look at the "
        "options for your account with you."
    ),
}

# A reported problem the help centre has no answer for: there is no "that" to sort it out.
UNANSWERED_PROBLEM = "A person from our team can look into this with you. Shall I bring someone in?"


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """The events since the current session started: a customer who comes back after the session expired starts
    afresh (a question asked or a person declined an hour ago is not held against them)."""
    events = tracker.events
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1 :]
    return events


def conversation_turns(tracker: Tracker) -> list[Turn]:
    """The customer's typed messages in this session, oldest first (the latest last), each marked unhelpful when the
    answer to it missed. Button payloads ("/affirm") are clicks, not messages; a message the gateway sent again (a retry
    after the assistant failed on it, the same `keepwell.message_id`) is one message, not a repeated question."""
    turns: list[Turn] = []
    last_id = None
    for event in session_events(tracker):
        kind = event.get("event")
        if kind == "user":
            text = (event.get("text") or "").strip()
            message_id = logged_message_id(event)
            if text and not text.startswith("/"):
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                if message_id is not None and message_id == last_id and turns:
                    turns[-1] = Turn(text, intent)
                else:
                    turns.append(Turn(text, intent))
            last_id = message_id
        elif kind == "slot" and event.get("name") == UNHELPFUL_SLOT and event.get("value") and turns:
            last = turns[-1]
            turns[-1] = Turn(last.text, last.intent, unhelpful=True)
    return turns


def declined_a_person(tracker: Tracker) -> bool:
    """Whether the customer said no to an offer of a person in this session: then it is not made again."""
    offered = False
    for event in session_events(tracker):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == OFFER_SLOT:
            offered = bool(event.get("value"))
        elif kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if offered and (intent == "deny" or (event.get("text") or "").strip() == "/deny"):
                return True
            offered = False
    return False


def _account_at_risk(tracker: Tracker) -> bool:
    """At risk by the health the engine last recorded (what the CSM sees on the 360), not a fresh live score."""
    _customer_id, account = current_account(tracker)
    if account is None:
        return False
    return escalation.is_at_risk(account, health_of(account))


# Reasons worth an offer even right after another one: the customer keeps saying it is broken, or wants to leave.
_PERSISTENT = frozenset({escalation.STILL_BROKEN, escalation.CHURN_MOMENT})


async def offer_after_answer(
    tracker: Tracker, *, unhelpful: bool, reason: str | None = None
) -> tuple[Reply | None, list[EventType]]:
    """The offer of a person to send after an answer (or None) and the slot events recording it.

    A person is never offered after the customer declined one, nor twice in a row (except when the customer keeps
    reporting the problem, or wants to leave). A reason the triggers find is flagged for the CSMs either way.

    Args:
        unhelpful: the answer just given missed (nothing confident found).
        reason: a reason the caller already has (a churn moment, a reported problem); else the triggers decide.
    """
    events: list[EventType] = [SlotSet(UNHELPFUL_SLOT, unhelpful)]
    no_offer = None, [*events, SlotSet(OFFER_SLOT, False)]
    if reason is None:
        turns = conversation_turns(tracker)
        text = (tracker.latest_message.get("text") or "").strip()
        if turns and turns[-1].text == text:
            earlier, current = turns[:-1], Turn(text, turns[-1].intent, unhelpful)
        else:  # the latest message was a click: the question is the last typed one
            earlier, current = turns, Turn("", None, unhelpful)
        at_risk = unhelpful and await asyncio.to_thread(_account_at_risk, tracker)  # database I/O off the loop
        # Asked as if no person had been offered yet: a repeated question is worth a flag even when the customer
        # said no to a person, or was offered one a turn ago.
        reason = escalation.offer_reason(earlier, current, already_offered=False, at_risk=at_risk)
        if reason in escalation.FLAGGED:
            await _flag(tracker, reason, current.text)
    if reason is None or declined_a_person(tracker):
        return no_offer
    if tracker.get_slot(OFFER_SLOT) and reason not in _PERSISTENT:
        return no_offer
    text = UNANSWERED_PROBLEM if reason == escalation.PROBLEM_REPORTED and unhelpful else OFFERS[reason]
    offer = Reply(text, buttons=[HANDOFF_BUTTON, DECLINE_BUTTON])
    return offer, [*events, SlotSet(OFFER_SLOT, True)]


def _raise_flag(conversation_id: str, reason: str, detail: str, message_id: int | None) -> None:
    with session_scope(services.engine()) as session:
        log.raise_flag(session, conversation_id, reason, detail, message_id)


async def _flag(tracker: Tracker, reason: str, text: str) -> None:
    """Flag the conversation for the CSMs (once while the flag is open); a failure is logged, never shown."""
    message_id = logged_message_id(tracker.latest_message)
    try:
        await asyncio.to_thread(_raise_flag, tracker.sender_id, reason, text, message_id)  # database I/O off the loop
    except Exception:  # the answer matters more than the alert
        logger.exception("could not flag conversation %s for %s", tracker.sender_id, reason)


def _record_negative(conversation_id: str, customer_id: str | None, text: str, article_id: str | None) -> None:
    with session_scope(services.engine()) as session:
        feedback.record_feedback(
            session, conversation_id, customer_id, text, polarity=feedback.NEGATIVE, article_id=article_id
        )


async def answer_did_not_help(tracker: Tracker, text: str, article_id: str | None) -> None:
    """Record the customer's "that didn't help" as negative feedback on the answer from `article_id` (the flagged
    queue shows it); a failure is logged, never shown."""
    customer_id = verified_customer_id(tracker, get_settings().internal_secret)
    try:
        await asyncio.to_thread(_record_negative, tracker.sender_id, customer_id, text or "(no words)", article_id)
    except Exception:  # the answer matters more than the record
        logger.exception("could not record negative feedback in conversation %s", tracker.sender_id)
