"""actions/offers.py: recommendations for the signed-in account; advice about something specific first gets the help
centre's answer."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import services
from actions.offers import ActionRecommend
from keepwell import accounts
from keepwell.db import session_scope
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
