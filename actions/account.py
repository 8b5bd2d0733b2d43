"""The signed-in customer's account: health score, plan and renewal (and the other questions of a run-on message)."""

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


class ActionAccountHealth(Action):
    def name(self) -> str:
        return "action_account_health"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        shown: list[bool] = []

        def compose(account: accounts.Account) -> replies.Reply:
            shown.append(True)
            return replies.account_health(account, health_of(account), get_settings().health_disclosure)

        send(dispatcher, await account_reply(tracker, compose))
        answered = await kb.answer_the_rest(dispatcher, tracker.latest_message.get("text") or "", HEALTH_WORDS)
        # A follow-up is about the last answer: "why?" after the score asks what drives it.
        return [SlotSet(followups.TOPIC_SLOT, answered or (followups.ACCOUNT_HEALTH if shown else None))]


class ActionPlanRenewal(Action):
    def name(self) -> str:
        return "action_plan_renewal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, await account_reply(tracker, lambda a: replies.plan_and_renewal(a, date.today())))
        answered = await kb.answer_the_rest(dispatcher, tracker.latest_message.get("text") or "", PLAN_WORDS)
        return [SlotSet(followups.TOPIC_SLOT, answered)]
