"""The signed-in customer's account: health score, plan and renewal."""

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions._dispatch import send
from actions.customer import current_account
from keepwell import health


class ActionAccountHealth(Action):
    def name(self) -> str:
        return "action_account_health"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id, account = current_account(tracker)
        if customer_id is None:
            send(dispatcher, replies.Reply(replies.SIGN_IN_INVITATION))
        elif account is None:
            send(dispatcher, replies.Reply(replies.ACCOUNT_NOT_FOUND, buttons=[replies.HANDOFF_BUTTON]))
        else:
            send(dispatcher, replies.account_health(account, health.score(account)))
        return []


class ActionPlanRenewal(Action):
    def name(self) -> str:
        return "action_plan_renewal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id, account = current_account(tracker)
        if customer_id is None:
            send(dispatcher, replies.Reply(replies.SIGN_IN_INVITATION))
        elif account is None:
            send(dispatcher, replies.Reply(replies.ACCOUNT_NOT_FOUND, buttons=[replies.HANDOFF_BUTTON]))
        else:
            send(dispatcher, replies.plan_and_renewal(account, date.today()))
        return []
