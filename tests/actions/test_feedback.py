"""actions/feedback.py: feedback taken from the first message when it holds it, otherwise asked for; a problem said
as feedback is answered as a problem."""

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import services
from actions.feedback import ActionRecordFeedback, ValidateFeedbackForm, is_substantive
from keepwell import feedback
from keepwell.db import session_scope
from knowledge_base import Passage, SearchResult
from tests.actions.conftest import TrackerFactory

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I wish the reports page loaded faster", True),
        ("feature request: dark mode for the mobile app", True),
        ("I have feedback", False),
        ("I'd like to leave some feedback", False),
        ("we want to give feedback", False),
        ("can i leave some feedback", False),
        ("could we give you a suggestion?", False),
        ("great", False),
    ],
)
def test_substantive_feedback_is_told_apart_from_an_announcement(text: str, expected: bool) -> None:
    assert is_substantive(text) is expected


async def test_substantive_first_message_fills_the_slot(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("the timeline view is confusing to new users", "give_feedback")
    slots = await ValidateFeedbackForm().extract_feedback_text(CollectingDispatcher(), tracker, {})
    assert slots == {"feedback_text": "the timeline view is confusing to new users"}


async def test_announcement_leaves_the_slot_for_the_form_to_ask(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("I have feedback", "give_feedback")
    assert await ValidateFeedbackForm().extract_feedback_text(CollectingDispatcher(), tracker, {}) == {}


async def test_answer_to_the_question_is_taken_whatever_its_length(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("dark mode", "give_feedback", slots={"requested_slot": "feedback_text"})
    slots = await ValidateFeedbackForm().extract_feedback_text(CollectingDispatcher(), tracker, {})
    assert slots == {"feedback_text": "dark mode"}


async def test_feedback_is_recorded_for_the_verified_customer(engine: Engine, make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("dark mode", "give_feedback", customer_id="cus_002", slots={"feedback_text": "dark mode"})
    dispatcher = CollectingDispatcher()

    events = await ActionRecordFeedback().run(dispatcher, tracker, {})

    assert events == [SlotSet("feedback_text", None)]
    assert "Thank you" in dispatcher.messages[0]["text"]
    with session_scope(engine) as session:
        [item] = feedback.list_feedback(session)
    assert (item.customer_id, item.text, item.conversation_id) == ("cus_002", "dark mode", tracker.sender_id)
    assert item.polarity == "neutral"  # an idea is not a complaint


async def test_a_problem_said_as_feedback_is_troubleshot_not_recorded(
    engine: Engine, make_tracker: TrackerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = "great job breaking the slack integration guys"
    answer = Passage("integrations/slack", "Slack", "Troubleshooting", "/help/integrations/slack", "Reconnect.", 0.6)
    monkeypatch.setattr(services, "knowledge_base", lambda: _OneAnswer(SearchResult(said, [answer], confident=True)))
    tracker = make_tracker(said, "give_feedback", slots={"feedback_text": said})
    dispatcher = CollectingDispatcher()

    events = await ActionRecordFeedback().run(dispatcher, tracker, {})

    answered, offer = dispatcher.messages
    assert answered["custom"]["sources"][0]["url"] == "/help/integrations/slack"
    assert "/request_human" in [b["payload"] for b in offer["buttons"]]
    assert SlotSet("feedback_text", None) in events and SlotSet("handoff_offered", True) in events
    with session_scope(engine) as session:
        assert feedback.list_feedback(session) == []


class _OneAnswer:
    min_score = 0.4

    def __init__(self, result: SearchResult) -> None:
        self.result = result

    def search(self, query: str, k: int | None = None, article_id: str | None = None) -> SearchResult:
        return self.result
