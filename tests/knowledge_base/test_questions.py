"""knowledge_base/questions.py: the `questions:` front-matter key, read and checked against the article's sections."""

import pytest

from knowledge_base.questions import parse_questions

HEADINGS = ["Add seats", "Remove seats"]


def test_questions_keep_the_authors_order_with_white_space_collapsed() -> None:
    raw = {"Remove seats": ["how do I  reduce\nseats", "refund for unused seats?"], "lead": "what is a seat"}

    assert parse_questions(raw, HEADINGS, has_lead=True) == (
        ("Remove seats", ("how do I reduce seats", "refund for unused seats?")),
        ("lead", ("what is a seat",)),
    )


def test_no_questions_key_means_no_questions() -> None:
    assert parse_questions(None, HEADINGS, has_lead=True) == ()


@pytest.mark.parametrize(
    ("raw", "headings", "has_lead", "complaint"),
    [
        (["how do I add seats"], HEADINGS, True, "must map a section heading (or 'lead')"),
        ({"Add seat": ["how do I add seats"]}, HEADINGS, True, "does not have: 'Add seat'"),
        ({"add seats": ["how do I add seats"]}, HEADINGS, True, "does not have: 'add seats'"),
        ({"Setup": ["where do I start"]}, ["Setup", "Setup"], True, "has twice: 'Setup'"),
        ({"lead": ["what is a seat"]}, HEADINGS, False, "the article has no summary or introduction"),
        ({"Add seats": []}, HEADINGS, True, "'questions' for 'Add seats' must be a list"),
        ({"Add seats": None}, HEADINGS, True, "'questions' for 'Add seats' must be a list"),
        ({"Add seats": ["ok", "  "]}, HEADINGS, True, "must be text, one question per item"),
        ({"Add seats": [["nested"]]}, HEADINGS, True, "must be text, one question per item"),
    ],
)
def test_bad_questions_are_refused_naming_the_section(
    raw: object, headings: list[str], has_lead: bool, complaint: str
) -> None:
    with pytest.raises(ValueError, match="questions") as refused:
        parse_questions(raw, headings, has_lead)

    assert complaint in str(refused.value)
