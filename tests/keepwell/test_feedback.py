"""keepwell/feedback.py: feedback told apart from a problem reported in feedback's words, its polarity, and recording
it (a polarity given or read off the words, bad input refused) on SQLite and PostgreSQL."""

import pytest
from sqlalchemy.orm import Session

from keepwell import feedback
from keepwell.feedback import polarity_of, reports_a_problem


@pytest.mark.parametrize(
    "text",
    [
        "great job breaking the slack integration guys",
        "brilliant, the import wiped half my tasks. just brilliant.",
        "love how the board view freezes every afternoon",
        "your app keeps crashing on my phone",
        "the calendar sync isn\u2019t working since tuesday",
        "thanks for getting me locked out again",
    ],
)
def test_something_broken_is_a_problem_not_feedback(text: str) -> None:
    assert reports_a_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "feature request: let us set a custom colour for each board",
        "the new navigation is way better than before, nice one",
        "the timeline view is really confusing when tasks overlap",
        "the export is missing a column for tags",
        "honestly you send way too many onboarding emails",
        "feedback: your pricing page doesn't say whether VAT is included",
        "please add a way to restore deleted tasks",
        "feature request: recover deleted tasks",
        "love the product, no bugs so far",
        "would be great to see which automations failed",
        "add a freeze column option like excel",
        "I don't work weekends, so a weekly digest would be nice",
        "suggestion: show who deleted a comment",
    ],
)
def test_ideas_praise_and_criticism_are_feedback(text: str) -> None:
    assert not reports_a_problem(text)


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("please add dark mode", "neutral"),
        ("it would be great if subtasks could have their own subtasks", "neutral"),
        ("feature request: recover deleted tasks", "neutral"),
        ("I wish the reports loaded faster", "neutral"),
        ("your pricing page doesn't say whether VAT is included", "neutral"),
        ("this is broken", "negative"),
        ("that didn't help at all", "negative"),
        ("great job breaking the slack integration guys", "negative"),
        ("the kanban board gets slow with lots of cards", "negative"),
        ("I don't like the new sidebar layout", "negative"),
        ("the timeline view is really confusing when tasks overlap", "negative"),
        ("honestly the new editor feels like a step backwards", "negative"),
        ("search doesn't find text in comments, please fix that", "negative"),
        ("I love the new automations builder", "positive"),
        ("the onboarding was really smooth, great job", "positive"),
        ("love the product, no bugs so far", "positive"),
    ],
)
def test_polarity_tells_complaints_from_ideas_and_praise(text: str, polarity: str) -> None:
    assert polarity_of(text) == polarity


def test_recorded_feedback_keeps_its_polarity_and_the_answer_it_is_about(db: Session) -> None:
    idea = feedback.record_feedback(db, "conv_1", "cus_1", "  please add dark mode ")
    unhelpful = feedback.record_feedback(
        db, "conv_1", None, "ok", polarity=feedback.NEGATIVE, article_id="billing/refunds"
    )
    db.commit()
    assert (idea.text, idea.polarity, idea.article_id) == ("please add dark mode", "neutral", None)
    assert (unhelpful.polarity, unhelpful.article_id) == ("negative", "billing/refunds")
    assert sorted(f.polarity for f in feedback.list_feedback(db)) == ["negative", "neutral"]


@pytest.mark.parametrize(
    ("text", "polarity", "message"),
    [
        ("   ", None, "empty"),
        ("x" * (feedback.MAX_FEEDBACK_CHARS + 1), None, "longer than"),
        ("fine", "furious", "polarity must be one of"),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_written(
    db: Session, text: str, polarity: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        feedback.record_feedback(db, "conv_1", None, text, polarity=polarity)
    assert feedback.list_feedback(db) == []
