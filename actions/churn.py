"""Churn moments: a customer who wants to cancel, downgrade or get a refund gets the right article; for a signed-in
customer the account's CSM is alerted (a flag on the conversation, once) and a person is offered."""

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, services
from actions._dispatch import send
from actions.customer import current_account, logged_message_id
from actions.escalation import offer_after_answer
from actions.followups import TOPIC_SLOT
from keepwell import accounts, escalation, signals
from keepwell import conversations as log
from keepwell.db import session_scope

logger = logging.getLogger(__name__)

REFUND_ARTICLE = "billing/refunds"
DOWNGRADE_ARTICLE = "billing/upgrade-or-downgrade"
CANCEL_ARTICLE = "billing/cancel-subscription"
_REFUND = re.compile(r"\b(refund\w*|money back|charge ?back|reimburse\w*)\b", re.IGNORECASE)
_DOWNGRADE = re.compile(r"\b(downgrad\w*|cheaper|lower plan|smaller plan|fewer seats|free plan|pay less)\b", re.I)


def churn_article(text: str, intent: str | None = None) -> str:
    """The article for what the customer wants: a refund, a smaller plan, or to leave. The words decide; without
    them, the intent does ("i was charged twice" asks for money back)."""
    if _REFUND.search(text):
        return REFUND_ARTICLE
    if _DOWNGRADE.search(text):
        return DOWNGRADE_ARTICLE
    return REFUND_ARTICLE if intent == "request_refund" else CANCEL_ARTICLE


def request_kind(article_id: str) -> str:
    """What the customer asked for, in words: cancelling, a downgrade or a refund."""
    return {REFUND_ARTICLE: "a refund", DOWNGRADE_ARTICLE: "a downgrade"}.get(article_id, "cancelling")


def alert_detail(account: accounts.Account | None, customer_id: str, text: str, article_id: str) -> str:
    """What the CSM reads on the flag: who, what they asked, which way they lean."""
    kind = request_kind(article_id)
    who = f"{account.name} ({account.plan}, MRR {account.mrr:,.0f})" if account else customer_id
    return f"{who} asked about {kind}: “{text}”"


def _alert(tracker: Tracker, text: str, article_id: str) -> bool:
    """Flag the conversation for the CSMs if the customer is signed in, and open the account's cancellation-request
    churn signal (which the playbooks act on); True when they are signed in."""
    customer_id, account = current_account(tracker)
    if customer_id is None:
        return False
    detail = alert_detail(account, customer_id, text, article_id)
    message_id = logged_message_id(tracker.latest_message)
    with session_scope(services.engine()) as session:
        log.raise_flag(session, tracker.sender_id, escalation.CHURN_MOMENT, detail, message_id)
        if account is not None:
            signals.open_cancellation_request(session, account.id, request_kind(article_id), text, tracker.sender_id)
    return True


class ActionChurnMoment(Action):
    def name(self) -> str:
        return "action_churn_moment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        article_id = churn_article(text, (tracker.latest_message.get("intent") or {}).get("name"))
        # The article is known; the search picks the section of it that answers the question.
        result = await asyncio.to_thread(services.knowledge_base().search, text or "cancel", None, article_id)
        send(dispatcher, replies.kb_answer(result))
        try:
            signed_in = await asyncio.to_thread(_alert, tracker, text, article_id)  # database I/O off the event loop
        except Exception:  # the answer is sent already; a failed alert must not take it back
            logger.exception("could not alert the CSM to a churn moment in conversation %s", tracker.sender_id)
            signed_in = True  # whoever it is, offering a person at a churn moment does no harm

        offer, events = await offer_after_answer(
            tracker, unhelpful=False, reason=escalation.CHURN_MOMENT if signed_in else None
        )
        if offer is not None:
            send(dispatcher, offer)
        return [*events, SlotSet(TOPIC_SLOT, article_id)]  # "and what happens to our data?" follows this article
