"""Answers from the product manual and FAQ."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, replies, services
from actions._dispatch import send
from actions.escalation import offer_after_answer
from keepwell import escalation
from knowledge_base import SearchResult


def previous_question(tracker: Tracker) -> str:
    """The last thing the user typed before the current message (which may be a button payload)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    for event in reversed(users[:-1]):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text
    return ""


def _search(question: str, article_id: str | None = None, topic: str | None = None) -> SearchResult:
    """Search the knowledge base; a follow-up is searched with its topic, then inside the topic's article."""
    kb = services.knowledge_base()
    if topic is None:
        return kb.search(question, None, article_id)
    result = kb.search(followups.in_context(question, topic))
    if result.confident and not result.ambiguous:
        return result
    inside = kb.search(question, None, topic)
    if inside.passages and inside.passages[0].score >= kb.min_score:
        return inside
    return kb.search(question)  # not about the topic after all: a fresh question


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        picked = next(tracker.get_latest_entity_values("article_id"), None)
        question = previous_question(tracker) if picked else (tracker.latest_message.get("text") or "").strip()
        if not question:
            send(dispatcher, replies.kb_answer_empty())
            return [SlotSet("handoff_offered", False)]
        reported = (tracker.latest_message.get("intent") or {}).get("name") == "report_problem"
        topic = tracker.get_slot(followups.TOPIC_SLOT)
        follow_up = not picked and bool(topic) and followups.is_follow_up(question)
        if follow_up and escalation.only_says_it_still_fails(question):
            # "still not working" after an answer: the same article again would not help; a person might.
            return await self._still_broken(dispatcher, tracker)
        # Encoding the query is CPU work; keep the server's event loop free for other conversations.
        result = await asyncio.to_thread(_search, question, picked, topic if follow_up else None)
        if result.ambiguous:
            send(dispatcher, replies.kb_choice(result))
            return [SlotSet("handoff_offered", False)]
        unhelpful = not result.confident or not result.passages
        # A reported problem gets the troubleshooting answer and then a person on offer; otherwise the escalation
        # triggers decide (frustration, the same question again, two misses in a row, an at-risk account).
        offer, events = await offer_after_answer(
            tracker, unhelpful=unhelpful, reason=escalation.PROBLEM_REPORTED if reported and not picked else None
        )
        send(
            dispatcher,
            replies.kb_not_sure(person_follows=offer is not None) if unhelpful else replies.kb_answer(result),
        )
        if offer is not None:
            send(dispatcher, offer)
        if not unhelpful:
            events.append(SlotSet(followups.TOPIC_SLOT, result.passages[0].article_id))
        return events

    async def _still_broken(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        offer, events = await offer_after_answer(tracker, unhelpful=True, reason=escalation.STILL_BROKEN)
        send(dispatcher, replies.still_broken(person_follows=offer is not None))
        if offer is not None:
            send(dispatcher, offer)
        return events
