"""Product feedback: a form that takes the feedback from the first message when it already holds it; a problem
reported in feedback's words is answered as a problem."""

import asyncio
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kb, replies, services
from actions._dispatch import send
from actions.customer import verified_customer_id
from actions.settings import get_settings
from keepwell import feedback
from keepwell.db import session_scope

_BARE_REQUEST = re.compile(
    r"^\s*(hi|hey|hello)?[,!. ]*((can|could|may|let) )?(i|we|me|us)?\s*('d| would| want to| wanna| have| got)?\s*"
    r"(like to|love to)?\s*(give|leave|share|send|submit|provide|have)?\s*(you)?\s*(some|a bit of|a|an)?\s*"
    r"(product |quick )?(feedback|suggestion|idea|feature request|complaint)s?\s*(for you|about orbitly)?[.!?]*\s*$",
    re.IGNORECASE,
)


# While the form waits for the text, these are answered by rules instead of being taken as the feedback.
_NOT_FEEDBACK = {"bot_challenge", "request_human"}


def is_substantive(text: str) -> bool:
    """Whether a message carries the feedback itself rather than only announcing it."""
    return len(text.split()) >= 4 and not _BARE_REQUEST.match(text)


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    async def extract_feedback_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        asked = tracker.get_slot("requested_slot") == "feedback_text"
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if text.startswith("/") or intent in _NOT_FEEDBACK:  # the form steps aside; rules answer these
            return {}
        if asked or is_substantive(text):
            return {"feedback_text": text}
        return {}

    def validate_feedback_text(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {"feedback_text": None}
        return {"feedback_text": text[: feedback.MAX_FEEDBACK_CHARS]}


def _record(conversation_id: str, customer_id: str | None, text: str) -> None:
    with session_scope(services.engine()) as session:
        feedback.record_feedback(session, conversation_id, customer_id, text)


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = tracker.get_slot("feedback_text") or ""
        if feedback.reports_a_problem(text):
            # "great job breaking the slack integration": troubleshooting and a person, not a note to the product team.
            return [
                *await kb.answer(dispatcher, tracker, text, reported=True, fresh=True),
                SlotSet("feedback_text", None),
            ]
        customer_id = verified_customer_id(tracker, get_settings().internal_secret)
        await asyncio.to_thread(_record, tracker.sender_id, customer_id, text)  # database I/O off the event loop
        send(dispatcher, replies.Reply(replies.FEEDBACK_THANKS))
        return [SlotSet("feedback_text", None)]
