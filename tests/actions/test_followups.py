"""actions/followups.py: which messages lean on the previous answer."""

import pytest

from actions.followups import article_of, asks_why, in_context, is_follow_up


@pytest.mark.parametrize(
    "text",
    ["and then?", "what about on mobile?", "why?", "does it work offline", "still not working",
     "and how do I remove them", "ok and for guests", "that one", "how do I turn it off", "still slow"],
)  # fmt: skip
def test_follow_ups_are_recognised(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    ["how do I set up SAML single sign-on for our company workspace", "can I export all project data to CSV files",
     "how do I connect jira cloud issues to orbitly boards", "how do I export my data?", "can I connect Slack?",
     "how do I set up an automation?", "is there a mobile app?", "what does SSO cost"],
)  # fmt: skip
def test_a_self_contained_question_stands_on_its_own(text: str) -> None:
    assert not is_follow_up(text)


def test_the_topic_is_added_in_words() -> None:
    assert in_context("what if it expired?", "getting-started/invite-teammates") == (
        "what if it expired? (invite teammates)"
    )


def test_a_help_link_names_its_article() -> None:
    assert article_of("/help/billing/add-ons#extra-seats") == "billing/add-ons"
    assert article_of("/help/billing/add-ons") == "billing/add-ons"
    assert article_of("https://example.com/pricing") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("why?", True), ("how come", True), ("and why is it yellow", True), ("what's dragging it down?", True),
     ("is there a mobile app?", False), ("it's broken", False), ("what plan are we on", False)],
)  # fmt: skip
def test_asking_for_the_reason_is_told_apart(text: str, expected: bool) -> None:
    assert asks_why(text) is expected
