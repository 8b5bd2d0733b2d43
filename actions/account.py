"""The signed-in customer's account: health score, plan and renewal (and the other questions of a run-on message)."""

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, kb, replies
from actions._dispatch import send
from actions.customer import account_reply, health_of
from actions.settings import get_settings
from keepwell import accounts

# What each answer covers: another question of the same message that names one of these is already answered.
HEALTH_WORDS = frozenset(
    "health healthy score doing usage adoption active engaged risk status red yellow green".split()
)
PLAN_WORDS = frozenset(
    "plan plans tier renew renews renewal renewing subscription subscribed billing billed bill seat seats licenses "
    "license paying pay cost contract".split()
)


# "why" anywhere in a health question ("our health score dropped, why?", "why is our account red") asks for the reasons.
_WHY = re.compile(r"\b(why|how come|what'?s (dragging|driving|behind))\b", re.IGNORECASE)


def asks_why(text: str) -> bool:
    return bool(_WHY.search(text))


class ActionAccountHealth(Action):
    def name(self) -> str:
        return "action_account_health"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        shown: list[bool] = []

        text = tracker.latest_message.get("text") or ""

        def compose(account: accounts.Account) -> replies.Reply:
            shown.append(True)
            disclosure = get_settings().health_disclosure
            if asks_why(text):  # "our score dropped, why?": what drives it, measure by measure
                return replies.health_explained(account, health_of(account), disclosure)
            return replies.account_health(account, health_of(account), disclosure, text)

        send(dispatcher, await account_reply(tracker, compose))
        answered = await kb.answer_the_rest(dispatcher, text, HEALTH_WORDS)
        # A follow-up is about the last answer: "why?" after the score asks what drives it.
        return [SlotSet(followups.TOPIC_SLOT, answered or (followups.ACCOUNT_HEALTH if shown else None))]


class ActionPlanRenewal(Action):
    def name(self) -> str:
        return "action_plan_renewal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, await account_reply(tracker, lambda a: replies.plan_and_renewal(a, date.today())))
        answered = await kb.answer_the_rest(dispatcher, tracker.latest_message.get("text") or "", PLAN_WORDS)
        return [SlotSet(followups.TOPIC_SLOT, answered)]
