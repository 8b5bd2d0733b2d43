"""actions/kb.py: answers from the knowledge base, or an honest "not sure"; a person offered when it is time."""

from dataclasses import replace

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

    min_score = 0.35

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
    anchor="send-invitations",
)


async def test_confident_answer_quotes_the_passage_and_links_its_source(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("how do I invite people", [PASSAGE], confident=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("how do I invite people"), {})

    assert kb.questions == ["how do I invite people"]
    assert events == [
        SlotSet("answer_unhelpful", False),
        SlotSet("handoff_offered", False),
        SlotSet("topic_article", "getting-started/invite-teammates"),
    ]
    [message] = dispatcher.messages
    assert message["text"].startswith("Invite teammates — Send invitations")
    assert "Open Settings > Members." in message["text"]  # markdown emphasis removed for the plain-text widget
    assert message["custom"] == {
        "sources": [
            {
                "title": "Invite teammates — Send invitations",
                "url": "/help/getting-started/invite-teammates#send-invitations",
                "score": 0.71,
            }
        ]
    }


async def test_a_first_miss_says_so_and_asks_to_rephrase_without_guessing(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("what's the weather", [PASSAGE], confident=False))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("what's the weather", "nlu_fallback"), {})

    assert events == [SlotSet("answer_unhelpful", True), SlotSet("handoff_offered", False)]
    [message] = dispatcher.messages
    assert "not sure" in message["text"] and "put it another way" in message["text"]
    assert not message["buttons"] and not message["custom"]


async def test_a_second_miss_in_a_row_offers_a_person(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("and the warp drive?", [PASSAGE], confident=False))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    missed = [
        {"event": "user", "text": "where is the flux capacitor", "parse_data": {"intent": {"name": "ask_faq"}}},
        {"event": "slot", "name": "answer_unhelpful", "value": True},
    ]
    tracker = make_tracker("and the warp drive toggle?", "nlu_fallback")
    tracker.events[-1:-1] = missed  # before the latest message
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert SlotSet("handoff_offered", True) in events
    not_sure, offer = dispatcher.messages
    assert "not sure" in not_sure["text"] and not not_sure["buttons"]
    assert {"title": "Talk to a person", "payload": "/request_human"} in offer["buttons"]


async def test_a_reported_problem_gets_the_troubleshooting_answer_then_a_person_on_offer(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("the app keeps logging me out", [PASSAGE], confident=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(
        dispatcher, make_tracker("the app keeps logging me out", "report_problem"), {}
    )

    answer, offer = dispatcher.messages
    assert answer["custom"]["sources"] and "sort it out" in offer["text"]
    assert SlotSet("handoff_offered", True) in events


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
    assert dispatcher.messages[0]["custom"]["sources"][0]["url"] == PASSAGE.section_url


class _TopicalKnowledgeBase(_StubKnowledgeBase):
    """Confident only when the question names the topic or the search stays inside the topic's article."""

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        super().search(query, k, article_id)
        confident = article_id == PASSAGE.article_id or "invite teammates" in query
        return SearchResult(query, [PASSAGE], confident=confident)


async def test_a_follow_up_is_searched_with_the_conversation_topic(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _TopicalKnowledgeBase(SearchResult("", []))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    tracker = make_tracker("and what if it expired?", "nlu_fallback", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == ["and what if it expired? (invite teammates)"]
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].endswith("#send-invitations")


async def test_still_not_working_after_an_answer_is_met_with_a_person_not_the_same_article(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _StubKnowledgeBase(SearchResult("still not working", [PASSAGE], confident=True))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    tracker = make_tracker("still not working", "report_problem", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == []
    sorry, offer = dispatcher.messages
    assert "still not working" in sorry["text"] and "/request_human" in [b["payload"] for b in offer["buttons"]]
    assert SlotSet("handoff_offered", True) in events


class _ElsewhereKnowledgeBase(_StubKnowledgeBase):
    """Knows the answer only in another article: the topic's article scores low for the question."""

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        super().search(query, k, article_id)
        if article_id is not None:  # inside the topic's article: something, but weak
            return SearchResult(query, [replace(PASSAGE, score=0.2)], confident=True)
        if "(" in query:  # the topic's words pull the search the wrong way
            return SearchResult(query, [PASSAGE], confident=False)
        return SearchResult(query, [OTHER], confident=True)


async def test_a_short_new_question_is_not_forced_into_the_previous_article(
    make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = _ElsewhereKnowledgeBase(SearchResult("", []))
    monkeypatch.setattr(services, "knowledge_base", lambda: kb)
    tracker = make_tracker("can I change roles", "ask_faq", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.picked == [None, PASSAGE.article_id, None]
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].startswith(OTHER.url)
