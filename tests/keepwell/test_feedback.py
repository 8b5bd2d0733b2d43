"""keepwell/feedback.py: feedback told apart from a problem reported in feedback's words."""

import pytest

from keepwell.feedback import reports_a_problem


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
