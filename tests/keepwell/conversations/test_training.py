"""keepwell/conversations/training.py: customer messages kept as training examples and exported as Rasa NLU YAML."""

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.conversations import training
from keepwell.models import Message
from tests.keepwell.conversations.conftest import World


def _message(session: Session, conversation_id: str, text: str) -> int:
    query = select(Message.id).where(Message.conversation_id == conversation_id, Message.text == text)
    found = session.scalar(query)
    assert found is not None
    return found


def test_the_domain_lists_the_assistants_intents() -> None:
    intents = training.domain_intents()
    assert "ask_howto" in intents and "request_cancellation" in intents and "nlu_fallback" not in intents


def test_a_misunderstood_message_becomes_an_example_exported_as_nlu_yaml(
    world_session: tuple[Session, World], tmp_path: Path
) -> None:
    session, _ = world_session
    blorp = _message(session, "conv_b", "blorp")
    example = training.add(session, blorp, "out_of_scope", "csm1@example.test", conversation_id="conv_b")
    assert (example.text, example.intent, example.predicted_intent) == ("blorp", "out_of_scope", "nlu_fallback")
    app = _message(session, "conv_c", "is there a mobile app")
    training.add(session, app, "ask_faq", "csm1@example.test")
    assert training.add(session, app, "ask_faq", "someone else").id != example.id  # again: no change
    exported = training.nlu_yaml(session)
    assert exported.startswith('version: "3.1"\nnlu:\n- intent: ask_faq\n  examples: |\n    - is there a mobile app\n')
    data = yaml.safe_load(exported)
    assert data["nlu"] == [
        {"intent": "ask_faq", "examples": "- is there a mobile app\n"},
        {"intent": "out_of_scope", "examples": "- blorp\n"},
    ]
    path = training.write_nlu_file(session, tmp_path)
    assert path == tmp_path / "bot" / "nlu" / "console_examples.yml"
    assert path.read_text() == exported
    assert set(training.for_conversation(session, "conv_b")) == {blorp}


def test_examples_that_would_mislead_training_are_refused(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    blorp = _message(session, "conv_b", "blorp")
    answer = _message(session, "conv_b", "Here is how.")
    with pytest.raises(training.ExampleError, match="Unknown intent"):
        training.add(session, blorp, "nlu_fallback", "csm")
    with pytest.raises(training.ExampleError, match="Only a customer's message"):
        training.add(session, answer, "ask_howto", "csm")
    with pytest.raises(training.ExampleError, match="Only a customer's message"):
        training.add(session, blorp, "ask_howto", "csm", conversation_id="conv_a")  # not that conversation's
    training.add(session, blorp, "out_of_scope", "csm")
    with pytest.raises(training.ExampleError, match="already an example of out_of_scope"):
        training.add(session, blorp, "greet", "csm")


def test_an_empty_export_is_still_valid_nlu_data(session: Session) -> None:
    assert yaml.safe_load(training.nlu_yaml(session)) == {"version": "3.1", "nlu": []}


def test_entity_markup_in_a_message_is_not_read_as_an_annotation(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    session.add(Message(conversation_id="conv_c", role="customer", text="what is [this](thing)", state="answered"))
    session.flush()
    training.add(session, _message(session, "conv_c", "what is [this](thing)"), "ask_faq", "csm")
    assert "- what is [this] (thing)" in training.nlu_yaml(session)
