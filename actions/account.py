"""The signed-in customer's account: health score, plan and renewal (and the other questions of a run-on message)."""

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import followups, kb, replies
from actions._dispatch import send
from actions.customer import account_reply
from keepwell import health


class ActionAccountHealth(Action):
    def name(self) -> str:
        return "action_account_health"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, await account_reply(tracker, lambda a: replies.account_health(a, health.score(a))))
        await kb.answer_the_rest(dispatcher, tracker.latest_message.get("text") or "")
        return [SlotSet(followups.TOPIC_SLOT, followups.ACCOUNT_HEALTH)]  # "why?" next asks about the score


class ActionPlanRenewal(Action):
    def name(self) -> str:
        return "action_plan_renewal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, await account_reply(tracker, lambda a: replies.plan_and_renewal(a, date.today())))
        await kb.answer_the_rest(dispatcher, tracker.latest_message.get("text") or "")
        return []
