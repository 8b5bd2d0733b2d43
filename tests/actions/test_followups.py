"""actions/followups.py: which messages lean on the previous answer."""

import pytest

from actions.followups import article_of, asks_why, in_context, is_elliptical, is_follow_up, question_behind


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


def test_the_question_asked_before_comes_first() -> None:
    assert in_context("what happens to salesforce then", "billing/upgrade-or-downgrade", "how do i downgrade") == (
        "how do i downgrade what happens to salesforce then (upgrade or downgrade)"
    )


def _bot(*urls: str) -> dict:
    return {"event": "bot", "text": "…", "data": {"custom": {"sources": [{"title": "t", "url": u} for u in urls]}}}


def test_the_question_behind_a_topic_is_the_one_its_answer_answered() -> None:
    events = [
        {"event": "user", "text": "hi there"},
        _bot(),
        {"event": "user", "text": "how do i downgrade to starter"},
        {"event": "action", "name": "action_answer_from_kb"},
        _bot("/help/billing/upgrade-or-downgrade#downgrade"),
        {"event": "user", "text": "thanks"},
        _bot(),
        {"event": "user", "text": "what happens to salesforce then"},
    ]
    assert question_behind(events, "billing/upgrade-or-downgrade") == "how do i downgrade to starter"
    assert question_behind(events, "billing/refunds") == ""  # no answer cites it


def test_a_picked_button_points_to_the_words_typed_before_it() -> None:
    events = [
        {"event": "user", "text": "how do i give someone admin"},
        {"event": "user", "text": '/ask_faq{"article_id": "admin-security/roles-and-permissions"}'},
        _bot("/help/admin-security/roles-and-permissions#change-a-role"),
        {"event": "user", "text": "and for guests?"},
    ]
    assert question_behind(events, "admin-security/roles-and-permissions") == "how do i give someone admin"


@pytest.mark.parametrize("text", ["what happens to our salesforce integration then", "and billing then?"])
def test_a_closing_then_leans_on_what_came_before(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what about growth", True),
        ("and on growth?", True),
        ("and annual?", True),
        ("how about on mobile", True),
        ("and if we use sso?", False),
        ("and how do i remove them?", False),
        ("can it create tasks too", False),
    ],
)
def test_a_follow_up_that_only_names_what_to_ask_about_is_told_apart(text: str, expected: bool) -> None:
    assert is_elliptical(text) is expected
