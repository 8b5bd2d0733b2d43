"""actions/kb.py: answers from the knowledge base, or an honest "not sure"; a person offered when it is time."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import services
from actions.kb import FOLLOW_UP_MARGIN, ActionAnswerFromKB
from keepwell import feedback
from keepwell.db import session_scope
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import TrackerFactory, flags_of, open_conversation

pytestmark = pytest.mark.anyio


# How a stub knowledge base answers a search: from the query and the article it is limited to.
Answers = Callable[[str, str | None], SearchResult]


class _StubKnowledgeBase:
    """Returns a fixed result (or what `answers` says) and remembers the questions it was asked."""

    min_score = 0.35

    def __init__(self, result: SearchResult | Answers) -> None:
        self.answers: Answers = result if callable(result) else (lambda query, article_id: result)
        self.questions: list[str] = []
        self.picked: list[str | None] = []
        self.vectors: list[object] = []

    def encode_query(self, query: str) -> str:
        return f"vector of {query}"

    def search(
        self, query: str, k: int | None = None, article_id: str | None = None, vector: object = None
    ) -> SearchResult:
        self.questions.append(query)
        self.picked.append(article_id)
        self.vectors.append(vector)
        return self.answers(query, article_id)


StubInstaller = Callable[[SearchResult | Answers], _StubKnowledgeBase]


@pytest.fixture
def stub_kb(monkeypatch: pytest.MonkeyPatch) -> StubInstaller:
    """Installs a stub knowledge base as the action server's, and returns it."""

    def install(result: SearchResult | Answers) -> _StubKnowledgeBase:
        kb = _StubKnowledgeBase(result)
        monkeypatch.setattr(services, "knowledge_base", lambda: kb)
        return kb

    return install


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
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(SearchResult("how do I invite people", [PASSAGE], confident=True))
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
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(SearchResult("what's the weather", [PASSAGE], confident=False))
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("what's the weather", "nlu_fallback"), {})

    assert events == [SlotSet("answer_unhelpful", True), SlotSet("handoff_offered", False)]
    [message] = dispatcher.messages
    assert "not sure" in message["text"] and "put it another way" in message["text"]
    assert not message["buttons"] and not message["custom"]


async def test_a_second_miss_in_a_row_offers_a_person_and_flags_it(
    make_tracker: TrackerFactory, stub_kb: StubInstaller, engine: Engine
) -> None:
    stub_kb(SearchResult("and the warp drive?", [PASSAGE], confident=False))
    missed = [
        {"event": "user", "text": "where is the flux capacitor", "parse_data": {"intent": {"name": "ask_faq"}}},
        {"event": "slot", "name": "answer_unhelpful", "value": True},
    ]
    tracker = make_tracker("and the warp drive toggle?", "nlu_fallback")
    tracker.events[-1:-1] = missed  # before the latest message
    open_conversation(engine, tracker.sender_id)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert SlotSet("handoff_offered", True) in events
    assert flags_of(engine) == [("unhelpful_answers", "and the warp drive toggle?")]
    not_sure, offer = dispatcher.messages
    assert "not sure" in not_sure["text"] and not not_sure["buttons"]
    assert {"title": "Talk to a person", "payload": "/request_human"} in offer["buttons"]


async def test_a_reported_problem_gets_the_troubleshooting_answer_then_a_person_on_offer(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(SearchResult("the app keeps logging me out", [PASSAGE], confident=True))
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


async def test_with_two_close_articles_the_likelier_answers_and_the_other_is_one_tap_away(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(SearchResult("who can invite people", [PASSAGE, OTHER], confident=True, ambiguous=True))
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, make_tracker("who can invite people"), {})

    assert SlotSet("topic_article", PASSAGE.article_id) in events
    [message] = dispatcher.messages
    assert message["text"].startswith("Invite teammates — Send invitations")
    assert "If you meant “Roles and permissions” instead" in message["text"]
    assert [s["url"] for s in message["custom"]["sources"]] == [PASSAGE.section_url]
    assert [b["payload"] for b in message["buttons"]] == [
        '/ask_faq{"article_id": "admin-security/roles-and-permissions"}'
    ]


def _run_on(query: str, article_id: str | None) -> SearchResult:
    """Knows invitations and roles apart; anything else is unknown."""
    if "invite" in query and "admin" in query:
        return SearchResult(query, [PASSAGE, OTHER], confident=True)
    if "invite" in query:
        return SearchResult(query, [PASSAGE], confident=True)
    if "admin" in query:
        return SearchResult(query, [OTHER], confident=True)
    return SearchResult(query, [PASSAGE], confident=False)


async def test_each_question_of_a_run_on_message_is_answered(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_run_on)
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(
        dispatcher, make_tracker("how do i invite people and also how do i make someone an admin"), {}
    )

    assert kb.questions == ["how do i invite people", "how do i make someone an admin"]
    first, second = dispatcher.messages
    assert first["custom"]["sources"][0]["url"] == PASSAGE.section_url
    assert second["custom"]["sources"][0]["url"].startswith(OTHER.url)
    assert SlotSet("topic_article", OTHER.article_id) in events  # a follow-up is likelier about the last answer


async def test_a_run_on_message_with_one_answerable_question_gets_one_answer(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_run_on)
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, make_tracker("how do i invite people and also what is the weather"), {})

    assert kb.questions[-1] == "how do i invite people and also what is the weather"  # searched whole after all
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"] == PASSAGE.section_url


async def test_a_picked_article_answers_the_question_asked_before(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(SearchResult("how do I invite my teammates?", [PASSAGE], confident=True))
    tracker = make_tracker('/ask_faq{"article_id": "getting-started/invite-teammates"}', "ask_faq")
    tracker.latest_message["entities"] = [{"entity": "article_id", "value": "getting-started/invite-teammates"}]
    # The question the customer typed before picking: the previous user event in the fixture.
    tracker.events.insert(-1, {"event": "user", "text": "how do I invite my teammates?"})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == ["how do I invite my teammates?"]
    assert kb.picked == ["getting-started/invite-teammates"]
    assert dispatcher.messages[0]["custom"]["sources"][0]["url"] == PASSAGE.section_url


def _topical(query: str, article_id: str | None) -> SearchResult:
    """Confident only when the question names the topic or the search stays inside the topic's article."""
    confident = article_id == PASSAGE.article_id or "invite teammates" in query
    return SearchResult(query, [PASSAGE], confident=confident)


async def test_a_follow_up_is_answered_from_the_conversation_topic(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_topical)
    tracker = make_tracker("and what if it expired?", "nlu_fallback", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    # Read with the topic's words, the topic's article still ranks first: one search answers.
    assert kb.questions == ["and what if it expired? (invite teammates)"]
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].endswith("#send-invitations")


async def test_a_follow_up_is_read_with_the_question_its_topic_answered(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_topical)
    tracker = make_tracker("and what if it expired?", "nlu_fallback", slots={"topic_article": PASSAGE.article_id})
    answered = {"event": "bot", "text": "…", "data": {"custom": {"sources": [{"url": PASSAGE.section_url}]}}}
    tracker.events[-1:-1] = [{"event": "user", "text": "how do i add people"}, answered]
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    # The earlier question says what "it" is and chooses the article; the section is the one this question asks
    # about, chosen inside the article without the earlier words.
    assert kb.questions == [
        "how do i add people and what if it expired? (invite teammates)",
        "and what if it expired? (invite teammates)",
    ]
    assert kb.picked == [None, PASSAGE.article_id]
    assert len(dispatcher.messages) == 1


async def test_still_not_working_after_an_answer_is_met_with_a_person_not_the_same_article(
    make_tracker: TrackerFactory, stub_kb: StubInstaller, engine: Engine
) -> None:
    kb = stub_kb(SearchResult("still not working", [PASSAGE], confident=True))
    tracker = make_tracker("still not working", "report_problem", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    events = await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == []
    sorry, offer = dispatcher.messages
    assert "still not working" in sorry["text"] and "/request_human" in [b["payload"] for b in offer["buttons"]]
    assert SlotSet("handoff_offered", True) in events
    with session_scope(engine) as session:  # negative feedback on the answer, which the CSMs see flagged
        [said] = feedback.list_feedback(session)
    assert (said.text, said.polarity, said.article_id) == ("still not working", "negative", PASSAGE.article_id)


def _elsewhere(query: str, article_id: str | None) -> SearchResult:
    """Knows the answer only in another article: the topic's article scores low for the question."""
    if article_id is not None:  # inside the topic's article: something, but weak
        return SearchResult(query, [replace(PASSAGE, score=0.2)], confident=True)
    if "(" in query:  # the topic's words pull the search the wrong way
        return SearchResult(query, [PASSAGE], confident=False)
    return SearchResult(query, [OTHER], confident=True)


async def test_a_short_new_question_is_not_forced_into_the_previous_article(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_elsewhere)
    tracker = make_tracker("and roles?", "ask_faq", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.picked == [None, PASSAGE.article_id, None]
    # The question alone is encoded once for the search inside the topic and the fresh one.
    assert kb.vectors == [None, "vector of and roles?", "vector of and roles?"]
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].startswith(OTHER.url)


def _competing(inside: float, elsewhere: float) -> Answers:
    """The topic's article and another one both answer, with the given cosines."""

    def answers(query: str, article_id: str | None) -> SearchResult:
        if article_id is not None:
            return SearchResult(query, [replace(PASSAGE, score=inside)], confident=True)
        return SearchResult(query, [replace(OTHER, score=elsewhere)], confident=True)

    return answers


@pytest.mark.parametrize(
    ("inside", "elsewhere", "answered_from"),
    [(0.62, 0.66, PASSAGE.url), (0.62, 0.62 + FOLLOW_UP_MARGIN + 0.01, OTHER.url), (0.70, 0.50, PASSAGE.url)],
)
async def test_a_follow_up_leaves_the_topic_only_for_a_clearly_better_article(
    make_tracker: TrackerFactory, stub_kb: StubInstaller, inside: float, elsewhere: float, answered_from: str
) -> None:
    stub_kb(_competing(inside, elsewhere))
    tracker = make_tracker("and what happens to their tasks", "ask_faq", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].startswith(answered_from)


async def test_a_new_looking_question_that_finds_nothing_is_tried_with_the_topic(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_topical)
    question = "where do i see pending invitations list"
    tracker = make_tracker(question, "ask_faq", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert kb.questions == [question, f"{question} (invite teammates)"]
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"] == PASSAGE.section_url


async def test_a_reported_problem_with_no_answer_is_offered_a_person_without_pretending_there_was_one(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(SearchResult("the gantt export crashes the tab", [PASSAGE], confident=False))
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, make_tracker("the gantt export crashes the tab", "report_problem"), {})

    not_sure, offer = dispatcher.messages
    assert "not sure" in not_sure["text"]
    assert "sort it out" not in offer["text"] and "/request_human" in [b["payload"] for b in offer["buttons"]]


def _pulled(query: str, article_id: str | None) -> SearchResult:
    """The topic's words pull its article to the top, with another article close behind; alone, the question is
    about the other article."""
    if "(" in query:
        pulled = [replace(PASSAGE, score=0.59), replace(OTHER, score=0.58)]
        return SearchResult(query, pulled, confident=True, ambiguous=True)
    if article_id is not None:
        return SearchResult(query, [replace(PASSAGE, score=0.21)], confident=True)
    return SearchResult(query, [replace(OTHER, score=0.54)], confident=True)


async def test_a_follow_up_with_another_article_close_behind_is_weighed_again_without_the_topic(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_pulled)
    tracker = make_tracker("and the roles?", "ask_faq", slots={"topic_article": PASSAGE.article_id})
    dispatcher = CollectingDispatcher()

    await ActionAnswerFromKB().run(dispatcher, tracker, {})

    assert len(kb.questions) == 3
    [message] = dispatcher.messages
    assert message["custom"]["sources"][0]["url"].startswith(OTHER.url)


async def test_a_run_on_question_nothing_answers_is_named_not_dropped(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(_run_on)
    dispatcher = CollectingDispatcher()
    said = "how do i invite people? how do i make someone an admin? what is the warp drive setting"

    await ActionAnswerFromKB().run(dispatcher, make_tracker(said), {})

    *answers, missed = dispatcher.messages
    assert len(answers) == 2
    assert (
        missed["text"] == "I couldn't find an answer to “what is the warp drive setting”. Could you ask it another way?"
    )


LINKS = replace(PASSAGE, section="Share an invite link", anchor="share-an-invite-link", text="Copy the invite link.")


async def test_two_questions_answered_by_two_sections_of_one_article_get_both_sections(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    stub_kb(lambda query, _article: SearchResult(query, [LINKS if "link" in query else PASSAGE], confident=True))
    dispatcher = CollectingDispatcher()

    said = "how do i invite people by email and can i share a link instead"
    await ActionAnswerFromKB().run(dispatcher, make_tracker(said), {})

    first, second = dispatcher.messages
    assert first["custom"]["sources"][0]["url"] == PASSAGE.section_url
    assert second["custom"]["sources"][0]["url"] == LINKS.section_url


async def test_an_elliptical_follow_up_chooses_its_section_with_the_question_asked_before(
    make_tracker: TrackerFactory, stub_kb: StubInstaller
) -> None:
    kb = stub_kb(_topical)
    tracker = make_tracker("what about guests?", "nlu_fallback", slots={"topic_article": PASSAGE.article_id})
    answered = {"event": "bot", "text": "…", "data": {"custom": {"sources": [{"url": PASSAGE.section_url}]}}}
    tracker.events[-1:-1] = [{"event": "user", "text": "how many people can we invite on starter"}, answered]

    await ActionAnswerFromKB().run(CollectingDispatcher(), tracker, {})

    # "what about guests?" asks the earlier question about guests: no second search without those words.
    assert kb.questions == ["how many people can we invite on starter what about guests? (invite teammates)"]
