"""keepwell/escalation.py: a person is offered once, for a reason a good support agent would act on."""

from collections.abc import Callable

import pytest

from keepwell import escalation, health
from keepwell.accounts import Account
from keepwell.escalation import Turn, is_frustrated, offer_reason, same_question

AccountFactory = Callable[..., Account]


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "I've asked three times, this is ridiculous",
        "great, just great. another outage",
        "thanks for nothing",
        "it STILL DOESNT WORK",
        "why is this so hard!!",
        "I'm so frustrated with the import",
        "what a waste of my time",
        "you don't understand what I'm asking",
        "third time asking: how do I export",
        "still not working",
        "wow great, another invoice with the wrong name",
        "we pay you thousands a month and it takes forever to load",
        "what are we even paying for",
        "i'm so done with this",
    ],
)
def test_frustration_and_anger_are_noticed(text: str) -> None:
    assert is_frustrated(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I invite my teammates?",
        "I can't log in",
        "I don't understand how automations work",
        "does orbitly support SSO and SAML?",
        "hello",
        "can I export to CSV or PDF?",
        "the import failed",
        "how do I restore a task from the trash",
        "does the mobile app still work offline",
        "how do I stop annoying email notifications",
        "can I export to JSON or XLSX",
        "can I keep tasks hidden for days",
        "wow, that was quick, thanks",
        "how much do we pay per seat",
        "does the export take long for a big workspace",
    ],
)
def test_ordinary_questions_and_problems_are_not_anger(text: str) -> None:
    assert not is_frustrated(text)


def test_the_same_question_in_other_words_is_recognised() -> None:
    assert same_question("how do I export my data to csv", "how can i export data to CSV?")
    assert not same_question("how do I export my data", "how do I invite my team")
    assert not same_question("ok", "ok"), "too short to be a question"


def test_a_person_is_offered_for_each_trigger_and_only_once() -> None:
    asked = Turn("how do I connect jira to orbitly", "ask_howto")
    missed = Turn("what is the flux capacitor setting", "ask_faq", unhelpful=True)
    assert offer_reason([], Turn("how do I connect jira"), already_offered=False, at_risk=False) is None
    assert offer_reason([], Turn("this is useless"), already_offered=False, at_risk=False) == escalation.FRUSTRATION
    again = Turn("how do I connect jira with orbitly")
    assert offer_reason([asked], again, already_offered=False, at_risk=False) == escalation.REPEATED_QUESTION
    second_miss = Turn("where is the quantum sync toggle", unhelpful=True)
    assert offer_reason([missed], second_miss, already_offered=False, at_risk=False) == escalation.UNHELPFUL_ANSWERS
    assert offer_reason([asked], second_miss, already_offered=False, at_risk=False) is None, "one miss is not two"
    assert offer_reason([asked], second_miss, already_offered=False, at_risk=True) == escalation.AT_RISK_ACCOUNT
    assert offer_reason([missed], Turn("this is useless"), already_offered=True, at_risk=True) is None, "once"


def test_red_health_or_high_revenue_puts_an_account_at_risk(make_account: AccountFactory) -> None:
    healthy = make_account()
    assert not escalation.is_at_risk(healthy, health.score(healthy))
    assert escalation.is_at_risk(make_account(mrr=escalation.HIGH_VALUE_MRR), health.score(healthy))
    red = make_account(usage=None, seats_used=1)
    red_score = health.HealthScore(score=20, band="red", components=[], drivers=[])
    assert escalation.is_at_risk(red, red_score)
    assert not escalation.is_at_risk(None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("still not working", True),
        ("didn't help", True),
        ("still nothing", True),
        ("same issue", True),
        ("ok", False),
        ("its not triggering at all", False),
        ("still missing the tasks from my phone", False),
        ("still doesn\u2019t work", True),
        ("it didn\u2019t help", True),
        ("but I want it", False),
        ("still not loading", True),
        ("it keeps crashing", True),
        ("still stuck", True),
        ("i tried that. still not working", True),
        ("no luck", True),
        ("still not syncing to the calendar", False),
        ("does it still run?", False),
        ("will it still show up?", False),
        ("keep going", False),
        ("is it still open?", False),
    ],
)
def test_a_message_that_only_says_it_still_fails_is_told_apart_from_a_new_detail(text: str, expected: bool) -> None:
    assert escalation.only_says_it_still_fails(text) is expected
