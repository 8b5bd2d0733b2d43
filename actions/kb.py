"""Answers from the product manual and FAQ."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send


def previous_question(tracker: Tracker) -> str:
    """The last thing the user typed before the current message (which may be a button payload)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    for event in reversed(users[:-1]):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text
    return ""


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        picked = next(tracker.get_latest_entity_values("article_id"), None)
        question = previous_question(tracker) if picked else (tracker.latest_message.get("text") or "").strip()
        if not question:
            send(dispatcher, replies.kb_answer_empty())
            return [SlotSet("handoff_offered", False)]
        # Encoding the query is CPU work; keep the server's event loop free for other conversations.
        result = await asyncio.to_thread(services.knowledge_base().search, question, None, picked)
        if result.ambiguous:
            send(dispatcher, replies.kb_choice(result))
            return [SlotSet("handoff_offered", False)]
        send(dispatcher, replies.kb_answer(result))
        return [SlotSet("handoff_offered", not result.confident)]
