"""actions/handoff.py: a handoff is recorded once, with the transcript, for the console."""

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions.handoff import ActionAcknowledge, ActionHandoff, handoff_reason
from keepwell import handoffs
from keepwell.db import session_scope
from tests.actions.conftest import TrackerFactory

pytestmark = pytest.mark.anyio


async def test_handoff_is_recorded_with_transcript_and_reason(engine: Engine, make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("get me a human", "request_human", customer_id="cus_001")
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(dispatcher, tracker, {})

    assert events == [SlotSet("handoff_offered", False), ConversationPaused()]
    assert "customer success manager" in dispatcher.messages[0]["text"]
    with session_scope(engine) as session:
        [handoff] = handoffs.list_handoffs(session)
        assert handoffs.is_active(session, tracker.sender_id)
    assert handoff.customer_id == "cus_001"
    assert handoff.reason == "hi there"  # the last question that was not itself the request for a person
    assert [line["text"] for line in handoff.transcript] == [
        "hi there",
        "Hi! I'm the Orbitly assistant.",
        "get me a human",
    ]
    assert handoff.transcript[-1]["intent"] == "request_human"


async def test_asking_twice_keeps_one_open_handoff(engine: Engine, make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("get me a human", "request_human")
    await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    await ActionHandoff().run(CollectingDispatcher(), tracker, {})
    with session_scope(engine) as session:
        assert len(handoffs.list_handoffs(session, status="open")) == 1


def test_reason_falls_back_when_the_user_only_asked_for_a_person(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker("human please", "request_human")
    tracker.events[:] = [e for e in tracker.events if e.get("event") != "user" or e.get("text") == "human please"]
    assert handoff_reason(tracker) == "Asked to talk to a person"


async def test_ok_withdraws_an_offer_of_a_person(make_tracker: TrackerFactory) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAcknowledge().run(
        dispatcher, make_tracker("ok", "acknowledge", slots={"handoff_offered": True}), {}
    )
    assert events == [SlotSet("handoff_offered", False)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_acknowledged"]
