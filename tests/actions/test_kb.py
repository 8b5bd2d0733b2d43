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
        self.picked: list[str | None] = []

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        self.questions.append(query)
        self.picked.append(article_id)
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
    assert message["custom"] == {"sources": [{"title": "Invite teammates", "url": PASSAGE.url, "score": 0.71}]}


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


OTHER = Passage(
    article_id="admin-security/roles-and-permissions",
    title="Roles and permissions",
    section="Roles",
    url="/help/admin-security/roles-and-permissions",
    text="Admins can invite members.",
    score=0.70,
)


async def test_two_close_articles_are_offered_as_a_choice(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("who can invite people", [PASSAGE, OTHER], confident=True, ambiguous=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("who can invite people"), {})

    assert events == [SlotSet("handoff_offered", False)]
    [message] = dispatcher.messages
    assert "Which one did you mean?" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [
        '/ask_faq{"article_id": "getting-started/invite-teammates"}',
        '/ask_faq{"article_id": "admin-security/roles-and-permissions"}',
        "/request_human",
    ]


async def test_a_picked_article_answers_the_question_asked_before(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("how do I invite my teammates?", [PASSAGE], confident=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    tracker = make_tracker('/ask_faq{"article_id": "getting-started/invite-teammates"}', "ask_faq")
    tracker.latest_message["entities"] = [{"entity": "article_id", "value": "getting-started/invite-teammates"}]
    # The question the customer typed before picking: the previous user event in the fixture.
    tracker.events.insert(-1, {"event": "user", "text": "how do I invite my teammates?"})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == ["how do I invite my teammates?"]
    assert kb.picked == ["getting-started/invite-teammates"]
    assert dispatcher.messages[0]["custom"]["sources"][0]["url"] == PASSAGE.url
