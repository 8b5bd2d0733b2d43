"""keepwell/questions.py: a run-on message split into the questions it asks; one question stays whole."""

import pytest

from keepwell.questions import MAX_QUESTIONS, split_questions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "how do i invite people and also how much does each extra seat cost on starter",
            ["how do i invite people", "how much does each extra seat cost on starter"],
        ),
        (
            "i need to reset my password and then turn on 2fa for my account",
            ["i need to reset my password", "turn on 2fa for my account"],
        ),
        (
            "can i pay by card? do you charge vat",
            ["can i pay by card", "do you charge vat"],
        ),
        ("how do I cancel and will i lose my data", ["how do I cancel", "will i lose my data"]),
        ("how do i track time; can i export the timesheets", ["how do i track time", "can i export the timesheets"]),
    ],
)
def test_a_run_on_message_is_split_into_its_questions(text: str, expected: list[str]) -> None:
    assert split_questions(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "how do i import comments and attachments from asana",
        "can guests see tasks and files",
        "how do i set up sso",
        "why?",
    ],
)
def test_one_question_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


def test_a_piece_too_short_to_stand_alone_stays_with_its_question() -> None:
    assert split_questions("ok so. how do i export my data? thanks") == ["ok so. how do i export my data? thanks"]


def test_at_most_a_few_questions_are_kept() -> None:
    text = "how do i add tasks? how do i add projects? how do i add members? how do i add guests?"
    questions = split_questions(text)
    assert len(questions) == MAX_QUESTIONS
    assert questions[-1] == "how do i add members how do i add guests"
