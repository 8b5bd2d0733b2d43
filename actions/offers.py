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
from keepwell import accounts, funnel, health, offer_catalogue, offers
from keepwell.db import session_scope
from keepwell.models import utcnow
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


# Entities the offer buttons carry (actions/replies.offer_button): the offer opened, or the offer accepted.
OFFER_OPENED, OFFER_ACCEPTED = "offer_id", "offer_accepted"


def _recommend(account: accounts.Account, conversation_id: str) -> replies.Reply:
    """Recommendations under the account's standing (signals, repeats, owned), each one shown recorded."""
    with session_scope(services.engine()) as session:
        recommendation = funnel.recommend_and_record(
            session, account, health.score(account), services.offer_catalogue(), conversation_id
        )
    return replies.recommendations(recommendation)


def _follow_up(
    account: accounts.Account, offer: offer_catalogue.Offer, step: str, conversation_id: str
) -> replies.Reply:
    """A tapped offer: its detail (a click), or the customer's yes (an acceptance and a task for the CSM)."""
    with session_scope(services.engine()) as session:
        if step == OFFER_ACCEPTED:
            recorded = funnel.accept(session, account.id, offer, conversation_id, utcnow().date())
            return replies.offer_accepted(offer, recorded=recorded)
        if funnel.was_shown(session, account.id, offer.id):
            funnel.record(session, account.id, offer.id, "clicked", conversation_id)
    return replies.offer_detail(offer, offers.why_it_fits(offer, account, health.score(account)))


def _tapped(tracker: Tracker) -> tuple[offer_catalogue.Offer, str] | None:
    """The offer a button named and whether it was opened or accepted; None for a typed message."""
    for entity in tracker.latest_message.get("entities") or []:
        step = entity.get("entity")
        if step in (OFFER_OPENED, OFFER_ACCEPTED):
            offer = next((o for o in services.offer_catalogue() if o.id == entity.get("value")), None)
            return (offer, step) if offer is not None else None
    return None


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        tapped = _tapped(tracker)
        if tapped is not None:
            offer, step = tapped
            send(dispatcher, await account_reply(tracker, lambda a: _follow_up(a, offer, step, tracker.sender_id)))
            return [SlotSet(followups.TOPIC_SLOT, followups.article_of(offer.url))]
        text = (tracker.latest_message.get("text") or "").strip()
        answer = None
        if len(content_words(text) - _ADVICE_WORDS) >= _SPECIFIC_WORDS:
            answer = await asyncio.to_thread(_answer, text)  # encoding the query is CPU work
            if answer is not None:
                send(dispatcher, replies.kb_answer(answer))
        asks_next = onboarding.asks_next_step(text)

        def recommend(account: accounts.Account) -> replies.Reply:
            return _recommend(account, tracker.sender_id)

        reply = await account_reply(
            tracker, lambda a: onboarding.next_step(a, recommend) if asks_next else recommend(a)
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
