"""Recommendations: upsell, cross-sell or enablement content that fits the customer's segment and health; a request
for advice about something specific ("we're rolling this out to 300 people, any tips") first gets the help centre's
answer to it."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, replies, services
from actions._dispatch import send
from actions.customer import account_reply
from keepwell import accounts, health, offers
from keepwell.escalation import content_words
from knowledge_base import SearchResult

# Words that ask for advice without saying about what.
_ADVICE_WORDS = frozenset(
    "tips tip advice recommend recommendations recommendation suggest suggestions suggestion ideas idea next steps "
    "step anything else something us we'd we'll should could do doing using use better more best help".split()
)
_SPECIFIC_WORDS = 2


def _recommend(account: accounts.Account) -> replies.Reply:
    return replies.recommendations(offers.recommend(account, health.score(account), services.offer_catalogue()))


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        if len(content_words(text) - _ADVICE_WORDS) >= _SPECIFIC_WORDS:
            answer = await asyncio.to_thread(_answer, text)  # encoding the query is CPU work
            if answer is not None:
                send(dispatcher, replies.kb_answer(answer))
        reply = await account_reply(tracker, _recommend)
        send(dispatcher, reply)
        # "how much is it?" next is about the first suggestion.
        topic = next((followups.article_of(s["url"]) for s in reply.sources), None)
        return [SlotSet(followups.TOPIC_SLOT, topic)] if topic else []


def _answer(text: str) -> SearchResult | None:
    """The help centre's clear answer to the advice asked for, if it has one."""
    result = services.knowledge_base().search(text)
    return result if result.confident and not result.ambiguous and result.passages else None
