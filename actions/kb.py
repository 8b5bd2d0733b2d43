"""Answers from the product manual and FAQ."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        question = (tracker.latest_message.get("text") or "").strip()
        if not question:
            send(dispatcher, replies.kb_answer_empty())
            return [SlotSet("handoff_offered", False)]
        # Encoding the query is CPU work; keep the server's event loop free for other conversations.
        result = await asyncio.to_thread(services.knowledge_base().search, question)
        reply = replies.kb_answer(result)
        send(dispatcher, reply)
        return [SlotSet("handoff_offered", not result.confident)]
