"""actions/churn.py: cancel, downgrade and refund requests get their article; a signed-in customer's CSM is
alerted once per conversation and a person is offered."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import services
from actions.churn import ActionChurnMoment, churn_article
from keepwell import conversations as log
from keepwell import signals
from keepwell.db import session_scope
from keepwell.models import ConversationFlag
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import TrackerFactory

pytestmark = pytest.mark.anyio


class _ArticleBase:
    """Answers with the article it is asked for and remembers which."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        self.asked.append(article_id)
        passage = Passage(
            article_id=str(article_id),
            title="Cancel your subscription",
            section="Cancel",
            url=f"/help/{article_id}",
            text="Open Billing.",
            score=0.7,
            anchor="cancel",
        )
        return SearchResult(query=query, passages=[passage], confident=True)


@pytest.fixture
def kb(monkeypatch: pytest.MonkeyPatch) -> _ArticleBase:
    fake = _ArticleBase()
    monkeypatch.setattr(services, "knowledge_base", lambda: fake)
    return fake


@pytest.mark.parametrize(
    ("text", "article"),
    [
        ("i want a refund for last month", "billing/refunds"),
        ("give me my money back", "billing/refunds"),
        ("downgrade us to starter", "billing/upgrade-or-downgrade"),
        ("growth is too expensive, we need a cheaper plan", "billing/upgrade-or-downgrade"),
        ("we want to cancel", "billing/cancel-subscription"),
        ("we're leaving orbitly", "billing/cancel-subscription"),
    ],
)
def test_each_churn_moment_gets_its_article(text: str, article: str) -> None:
    assert churn_article(text) == article


def test_without_telling_words_the_intent_decides() -> None:
    assert churn_article("we were billed for seats we never used", "request_refund") == "billing/refunds"
    assert churn_article("we're done with this", "request_cancellation") == "billing/cancel-subscription"


def _open_conversation(engine: Engine, conversation_id: str, customer_id: str | None) -> None:
    with session_scope(engine) as session:
        log.accept(session, log.ConversationRef(conversation_id, customer_id, is_new=True), "hi", None)


def _flags(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(f.reason, f.detail) for f in session.scalars(select(ConversationFlag))]


async def test_a_signed_in_customer_who_wants_to_cancel_alerts_the_csm_once_and_is_offered_a_person(
    make_tracker: TrackerFactory, engine: Engine, kb: _ArticleBase
) -> None:
    tracker = make_tracker("we want to cancel our subscription", "request_cancellation", customer_id="cus_001")
    _open_conversation(engine, tracker.sender_id, "cus_001")
    dispatcher = CollectingDispatcher()

    events = await ActionChurnMoment().run(dispatcher, tracker, {})
    await ActionChurnMoment().run(CollectingDispatcher(), tracker, {})  # said twice: still one alert

    assert kb.asked == ["billing/cancel-subscription"] * 2
    answer, offer = dispatcher.messages
    assert answer["text"].startswith("Cancel your subscription") and "/help/billing/cancel-subscription" in str(answer)
    assert [b["payload"] for b in offer["buttons"]] == ["/request_human", "/deny"]
    assert SlotSet("handoff_offered", True) in events
    flags = _flags(engine)
    assert len(flags) == 1 and flags[0][0] == "churn_moment"
    assert "cancelling" in flags[0][1] and "we want to cancel our subscription" in flags[0][1]
    with session_scope(engine) as session:  # the playbooks' trigger: one open signal, however often it is said
        [signal] = signals.list_signals(session, account_ids=["cus_001"])
    assert signal.kind == "cancellation_request" and signal.evidence["request"] == "cancelling"
    assert signal.evidence["conversation_id"] == tracker.sender_id


async def test_an_anonymous_visitor_gets_the_article_without_an_alert(
    make_tracker: TrackerFactory, engine: Engine, kb: _ArticleBase
) -> None:
    tracker = make_tracker("can I get a refund", "request_refund")
    _open_conversation(engine, tracker.sender_id, None)
    dispatcher = CollectingDispatcher()

    events = await ActionChurnMoment().run(dispatcher, tracker, {})

    assert kb.asked == ["billing/refunds"]
    assert len(dispatcher.messages) == 1 and not dispatcher.messages[0]["buttons"]
    assert SlotSet("handoff_offered", False) in events
    assert _flags(engine) == []
    with session_scope(engine) as session:
        assert signals.list_signals(session) == []
