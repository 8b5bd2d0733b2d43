"""Recommendations: upsell, cross-sell or enablement content that fits the customer's segment and health."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send
from actions.customer import account_reply
from keepwell import accounts, health, offers


def _recommend(account: accounts.Account) -> replies.Reply:
    return replies.recommendations(offers.recommend(account, health.score(account), services.offer_catalogue()))


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        send(dispatcher, await account_reply(tracker, _recommend))
        return []
