"""api/services/tracker_events.py: turns read back from Rasa's SQL tracker store, matched to logged messages."""

from pathlib import Path

from sqlalchemy import create_engine

from api.services.tracker_events import TrackerEvents
from tests.api.conftest import TrackerEvents as RasaEventsWriter


def test_each_turn_is_matched_to_its_message_with_intent_confidence_entities_and_actions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    rasa = RasaEventsWriter(url)
    rasa.session_start("conv")
    rasa.user("conv", "how do I invite people", "ask_howto", 0.93, metadata={"keepwell": {"message_id": 11}})
    rasa.action("conv", "action_answer_from_kb")
    rasa.bot("conv", "Open Settings > Members.")
    rasa.action("conv", "action_listen")
    rasa.user("conv", "typed into Rasa directly", "greet", 0.5)  # not a gateway message: skipped
    rasa.action("conv", "utter_greet")
    rasa.user("conv", "talk to a person", "request_human", 0.88, metadata={"keepwell": {"message_id": 12}})
    rasa.action("conv", "action_handoff")
    rasa.user("other", "elsewhere", "greet", 0.9, metadata={"keepwell": {"message_id": 99}})
    rasa.close()

    reader = TrackerEvents(create_engine(url))
    cursor, turns = reader.turns_since("conv", 0)

    assert [(t.message_id, t.intent, t.confidence, t.actions) for t in turns] == [
        (11, "ask_howto", 0.93, ["action_answer_from_kb"]),
        (12, "request_human", 0.88, ["action_handoff"]),
    ]
    assert reader.turns_since("conv", cursor) == (cursor, []), "the cursor moves past what was read"


def test_the_slots_a_turn_set_are_read_with_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    rasa = RasaEventsWriter(url)
    rasa.slot("conv", "handoff_offered", False)  # before any message: belongs to no turn
    rasa.user("conv", "how do I export", "ask_howto", 0.9, metadata={"keepwell": {"message_id": 21}})
    rasa.action("conv", "action_answer_from_kb")
    rasa.slot("conv", "topic_article", "data-export")
    rasa.slot("conv", "answer_unhelpful", False)
    rasa.user("conv", "thanks", "thank", 0.99, metadata={"keepwell": {"message_id": 22}})
    rasa.close()

    _, turns = TrackerEvents(create_engine(url)).turns_since("conv", 0)

    assert [(t.message_id, t.slots) for t in turns] == [
        (21, {"topic_article": "data-export", "answer_unhelpful": False}),
        (22, {}),
    ]


def test_no_tracker_table_yet_means_nothing_to_read(tmp_path: Path) -> None:
    reader = TrackerEvents(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert reader.turns_since("conv", 5) == (5, [])


def test_the_answer_of_a_turn_rasa_finished_is_read_back_in_the_rest_channel_shape(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    rasa = RasaEventsWriter(url)
    rasa.user("conv", "export?", "ask_howto", 0.9, metadata={"keepwell": {"message_id": 7}})
    rasa.action("conv", "action_answer_from_kb")
    rasa.bot("conv", "Open Settings > Export.", buttons=[{"title": "Thanks", "payload": "/affirm"}],
             sources=[{"title": "Export", "url": "/help/export"}])  # fmt: skip
    rasa.user("conv", "next question", "greet", 0.9, metadata={"keepwell": {"message_id": 8}})
    rasa.bot("conv", "Hello!")
    rasa.user("conv", "a failed action said nothing", "ask_howto", 0.9, metadata={"keepwell": {"message_id": 10}})
    rasa.action("conv", "action_answer_from_kb")
    rasa.user("conv", "sent again, answered", "ask_howto", 0.9, metadata={"keepwell": {"message_id": 11}})
    rasa.user("conv", "sent again, answered", "ask_howto", 0.9, metadata={"keepwell": {"message_id": 10}})
    rasa.bot("conv", "Second time lucky.")
    rasa.close()

    reader = TrackerEvents(create_engine(url))
    assert reader.answer_of("conv", 7) == [
        {"text": "Open Settings > Export.", "buttons": [{"title": "Thanks", "payload": "/affirm"}]},
        {"custom": {"sources": [{"title": "Export", "url": "/help/export"}]}},
    ]
    assert reader.answer_of("conv", 8) == [{"text": "Hello!", "buttons": []}]
    assert reader.answer_of("conv", 10) == [{"text": "Second time lucky.", "buttons": []}], "the latest turn counts"
    assert reader.answer_of("conv", 11) is None, "a turn that said nothing is sent again"
    assert reader.answer_of("conv", 9) is None, "Rasa never finished (or never got) that turn"
    assert reader.answer_of("other", 7) is None
