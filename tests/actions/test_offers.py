"""actions/offers.py: recommendations for the signed-in account; advice about something specific first gets the help
centre's answer."""

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import services
from actions.offers import ActionRecommend
from keepwell import accounts, signals
from keepwell.db import session_scope
from keepwell.models import CSMTask, Customer, OfferEvent
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import TrackerFactory

pytestmark = pytest.mark.anyio

ROLLOUT = Passage(
    "getting-started/onboarding-checklist",
    "The Getting started checklist",
    "Tips for a smooth rollout",
    "/help/getting-started/onboarding-checklist",
    "Start with one team.",
    0.62,
    "tips-for-a-smooth-rollout",
)


class _KnowledgeBase:
    min_score = 0.4  # the rollout section (0.62) is clearly above it

    def __init__(self, confident: bool) -> None:
        self.confident = confident
        self.questions: list[str] = []

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        self.questions.append(query)
        return SearchResult(query, [ROLLOUT], confident=self.confident)


def _account_id(engine: Engine) -> str:
    with session_scope(engine) as session:
        return accounts.list_accounts(session)[0].id


async def test_a_plain_request_for_suggestions_gets_the_accounts_recommendations_only(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _KnowledgeBase(confident=True)
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionRecommend().run(
        dispatcher, make_tracker("any recommendations for us?", "ask_recommendations", _account_id(engine)), {}
    )

    assert kb.questions == []
    [message] = dispatcher.messages
    assert "/request_human" in [b["payload"] for b in message["buttons"]]
    first_offer = message["custom"]["sources"][0]["url"]
    assert first_offer in {f"/help/{e['value']}" for e in events}, "a follow-up is about the first suggestion"


async def test_advice_about_something_specific_first_gets_the_help_centres_answer(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = "we're rolling this out to 300 people next month, any tips"
    kb = _KnowledgeBase(confident=True)
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionRecommend().run(dispatcher, make_tracker(said, "ask_recommendations", _account_id(engine)), {})

    assert kb.questions == [said]
    answer, recommendations = dispatcher.messages
    assert answer["custom"]["sources"][0]["url"] == ROLLOUT.section_url
    assert "/request_human" in [b["payload"] for b in recommendations["buttons"]]
    assert events == [SlotSet("topic_article", ROLLOUT.article_id)]  # "how do I do that?" is about the answer


async def test_generic_advice_or_a_weak_match_gets_no_help_centre_answer(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _KnowledgeBase(confident=True)
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    account = _account_id(engine)

    await ActionRecommend().run(
        CollectingDispatcher(), make_tracker("any tips for getting more out of orbitly?", "x", account), {}
    )
    assert kb.questions == []

    kb.min_score = ROLLOUT.score - 0.02  # a match only just above the bar
    dispatcher = CollectingDispatcher()
    await ActionRecommend().run(dispatcher, make_tracker("rolling this out to 300 people, tips?", "x", account), {})
    assert kb.questions and len(dispatcher.messages) == 1


async def test_no_clear_answer_means_recommendations_alone(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "knowledge_base", lambda: _KnowledgeBase(confident=False))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("we're rolling this out to 300 people, any tips", "ask_recommendations", _account_id(engine))

    await ActionRecommend().run(dispatcher, tracker, {})

    assert len(dispatcher.messages) == 1


def _offer_tap(step: str, offer_id: str) -> list[dict[str, Any]]:
    """The entities Rasa reads off an offer button's payload (/ask_recommendations{"offer_id": ...})."""
    return [{"entity": step, "value": offer_id}]


def _events(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(OfferEvent).order_by(OfferEvent.id))
        return [(e.offer_id, e.event, e.conversation_id) for e in rows]


async def test_offers_shown_are_recorded_and_each_is_a_button_that_opens_it_and_says_why(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "knowledge_base", lambda: _KnowledgeBase(confident=False))
    account_id = _account_id(engine)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("any recommendations?", "ask_recommendations", account_id)
    await ActionRecommend().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    shown = [offer_id for offer_id, event, _ in _events(engine) if event == "shown"]
    assert shown and {conversation for *_, conversation in _events(engine)} == {tracker.sender_id}
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads == [f'/ask_recommendations{{"offer_id": "{offer_id}"}}' for offer_id in shown] + ["/request_human"]
    assert message["text"].count("Why it fits: ") == len(shown)

    # The customer taps the first offer: a click, and the offer with why it fits and a yes.
    opened = CollectingDispatcher()
    events = await ActionRecommend().run(
        opened,
        make_tracker(payloads[0], "ask_recommendations", account_id, entities=_offer_tap("offer_id", shown[0])),
        {},
    )
    assert _events(engine)[-1] == (shown[0], "clicked", tracker.sender_id)
    [detail] = opened.messages
    assert "Why it fits: " in detail["text"]
    assert detail["buttons"][0]["payload"] == f'/ask_recommendations{{"offer_accepted": "{shown[0]}"}}'
    assert events[0].get("value") == detail["custom"]["sources"][0]["url"].removeprefix("/help/")

    # ... and says yes: an acceptance and a task for the account's CSM, once however often it is pressed.
    for _ in range(2):
        accepted = CollectingDispatcher()
        yes = make_tracker("yes", "ask_recommendations", account_id, entities=_offer_tap("offer_accepted", shown[0]))
        await ActionRecommend().run(accepted, yes, {})
        assert accepted.messages[0]["text"].startswith("Done: I've told your customer success manager")
    assert [e for e in _events(engine) if e[1] == "accepted"] == [(shown[0], "accepted", tracker.sender_id)]
    with session_scope(engine) as session:
        [task] = session.scalars(select(CSMTask)).all()
        owner = session.get(Customer, account_id).owner_csm_id  # type: ignore[union-attr]
    assert task.account_id == account_id and task.owner_id == owner and task.source == "offer"

    # Asked again the same day: what was just shown is not repeated, and an accepted offer never comes back.
    again = CollectingDispatcher()
    await ActionRecommend().run(again, make_tracker("any recommendations?", "ask_recommendations", account_id), {})
    assert all(offer_id not in str(again.messages[0]["buttons"]) for offer_id in shown)


async def test_a_button_for_an_offer_never_shown_to_the_account_records_nothing(
    engine: Engine, make_tracker: TrackerFactory
) -> None:
    dispatcher = CollectingDispatcher()
    forged = make_tracker(
        "yes", "ask_recommendations", _account_id(engine), entities=_offer_tap("offer_accepted", "add-seats")
    )
    await ActionRecommend().run(dispatcher, forged, {})
    assert dispatcher.messages[0]["text"].startswith("I can't find that suggestion")
    opened = make_tracker("x", "ask_recommendations", _account_id(engine), entities=_offer_tap("offer_id", "add-seats"))
    await ActionRecommend().run(CollectingDispatcher(), opened, {})
    assert _events(engine) == []


async def test_an_account_with_an_open_churn_signal_is_offered_nothing_and_a_person(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "knowledge_base", lambda: _KnowledgeBase(confident=False))
    account_id = _account_id(engine)
    with session_scope(engine) as session:
        signals.open_cancellation_request(session, account_id, "cancelling", "we want to cancel", "earlier")
    dispatcher = CollectingDispatcher()
    await ActionRecommend().run(dispatcher, make_tracker("any recommendations?", "ask_recommendations", account_id), {})
    [message] = dispatcher.messages
    assert message["text"] == (
        "Your customer success manager is already looking at your account with you, so I'll leave suggestions to "
        "them for now."
    )
    assert [b["payload"] for b in message["buttons"]] == ["/request_human"] and _events(engine) == []
