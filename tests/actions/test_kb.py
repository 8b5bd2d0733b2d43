"""actions/kb.py: answers from the knowledge base, or an honest "not sure" with a person on offer."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.kb import ActionAnswerFromKB
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import TrackerFactory

pytestmark = pytest.mark.anyio


class _StubKnowledgeBase:
    """Returns a fixed result and remembers the questions it was asked."""

    def __init__(self, result: SearchResult) -> None:
        self.result = result
        self.questions: list[str] = []

    def search(self, query: str) -> SearchResult:
        self.questions.append(query)
        return self.result


PASSAGE = Passage(
    article_id="getting-started/invite-teammates",
    title="Invite teammates",
    section="Send invitations",
    url="/help/getting-started/invite-teammates",
    text="1. Open **Settings > Members**.\n2. Click **Invite** and enter their email addresses.",
    score=0.71,
)


async def test_confident_answer_quotes_the_passage_and_links_its_source(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("how do I invite people", [PASSAGE], confident=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("how do I invite people"), {})

    assert kb.questions == ["how do I invite people"]
    assert events == [SlotSet("handoff_offered", False)]
    [message] = dispatcher.messages
    assert message["text"].startswith("Invite teammates — Send invitations")
    assert "Open Settings > Members." in message["text"]  # markdown emphasis removed for the plain-text widget
    assert message["custom"] == {"sources": [{"title": "Invite teammates", "url": PASSAGE.url}]}


async def test_unconfident_answer_offers_a_person_and_sets_the_slot(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("what's the weather", [PASSAGE], confident=False))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("what's the weather", "nlu_fallback"), {})

    assert events == [SlotSet("handoff_offered", True)]
    [message] = dispatcher.messages
    assert "not sure" in message["text"]
    assert {"title": "Talk to a person", "payload": "/request_human"} in message["buttons"]
    assert not message["custom"]
