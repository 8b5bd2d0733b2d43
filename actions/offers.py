"""Recommendations: upsell, cross-sell or enablement content that fits the customer's segment and health."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send
from actions.customer import current_account
from keepwell import health, offers


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        customer_id, account = current_account(tracker)
        if customer_id is None:
            send(dispatcher, replies.Reply(replies.SIGN_IN_INVITATION))
        elif account is None:
            send(dispatcher, replies.Reply(replies.ACCOUNT_NOT_FOUND, buttons=[replies.HANDOFF_BUTTON]))
        else:
            recommendation = offers.recommend(account, health.score(account), list(services.offer_catalogue()))
            send(dispatcher, replies.recommendations(recommendation))
        return []
