"""Recommendations: upsell, cross-sell or enablement content that fits the customer's segment and health; a request
for advice about something specific ("we're rolling this out to 300 people, any tips") first gets the help centre's
answer to it."""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, onboarding, replies, services
from actions._dispatch import send
from actions.customer import account_reply
from keepwell import accounts, health, offers
from keepwell.text import content_words
from knowledge_base import SearchResult

# Words that ask for advice without saying about what.
_ADVICE_WORDS = frozenset(
    "tips tip advice recommend recommendations recommendation suggest suggestions suggestion ideas idea next steps "
    "step anything else something us we'd we'll should could do doing using use better more best help orbitly "
    "getting value subscription account team out most".split()
)
# The help centre's answer comes first only when it is clearly about the advice asked for: this far above the
# minimum score and ahead of the next article.
_CLEAR_MARGIN = 0.05
_SPECIFIC_WORDS = 2


def _recommend(account: accounts.Account) -> replies.Reply:
    return replies.recommendations(offers.recommend(account, health.score(account), services.offer_catalogue()))


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        answer = None
        if len(content_words(text) - _ADVICE_WORDS) >= _SPECIFIC_WORDS:
            answer = await asyncio.to_thread(_answer, text)  # encoding the query is CPU work
            if answer is not None:
                send(dispatcher, replies.kb_answer(answer))
        asks_next = onboarding.asks_next_step(text)
        reply = await account_reply(
            tracker, lambda a: onboarding.next_step(a, _recommend) if asks_next else _recommend(a)
        )
        send(dispatcher, reply)
        # A follow-up ("how do I do that?", "how much is it?") is about the help centre's answer, else the first
        # suggestion.
        suggested = next((followups.article_of(s["url"]) for s in reply.sources), None)
        return [SlotSet(followups.TOPIC_SLOT, answer.passages[0].article_id if answer else suggested)]


def _answer(text: str) -> SearchResult | None:
    """The help centre's clear answer to the advice asked for, if it has one."""
    kb = services.knowledge_base()
    result = kb.search(text)
    if not result.confident or result.ambiguous or not result.passages:
        return None
    best = result.passages[0].score
    runner_up = result.passages[1].score if len(result.passages) > 1 else -1.0
    return result if best >= kb.min_score + _CLEAR_MARGIN and best - runner_up >= _CLEAR_MARGIN else None
