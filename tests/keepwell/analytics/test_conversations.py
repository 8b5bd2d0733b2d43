"""Conversations per day and channel, containment, fallbacks and top intents, on the world of conftest.py."""

from datetime import date

from sqlalchemy.orm import Session

from keepwell.analytics import ReportPeriod, conversations
from tests.keepwell.analytics.conftest import PERIOD

MARCH_1, MARCH_2, MARCH_3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def test_conversations_count_on_the_day_they_started_once_a_customer_wrote(session: Session) -> None:
    days = conversations.volume(session, PERIOD)
    # c1, c2 on the 1st; c3 on the 2nd; c4 (23:30 UTC) and c8 on the 3rd. c5 has no message, c6 and c7 are outside.
    assert [(d.day, d.by_channel) for d in days] == [
        (MARCH_1, {"website": 2, "in_app": 0, "api": 0}),
        (MARCH_2, {"website": 0, "in_app": 1, "api": 0}),
        (MARCH_3, {"website": 0, "in_app": 1, "api": 1}),
    ]
    assert sum(d.total for d in days) == 5


def test_containment_is_the_share_of_conversations_without_a_handoff(session: Session) -> None:
    days = conversations.containment(session, PERIOD)
    assert [(d.day, d.conversations, d.handed_over) for d in days] == [
        (MARCH_1, 2, 1),  # c2 handed over, c1 contained
        (MARCH_2, 1, 1),  # c3
        (MARCH_3, 2, 1),  # c8 (still waiting counts: a person was needed), c4 contained
    ]
    assert [d.containment for d in days] == [0.5, 0.0, 0.5]


def test_a_day_without_conversations_has_no_rate_rather_than_zero(session: Session) -> None:
    [day] = conversations.containment(session, ReportPeriod(date(2026, 1, 5), date(2026, 1, 5)))
    assert (day.conversations, day.containment) == (0, None)


def test_fallback_rate_counts_messages_nlu_read_that_it_did_not_understand(session: Session) -> None:
    days = conversations.fallbacks(session, PERIOD)
    # 1st: c1 0.95, c2 fallback, c2 0.90 (the held message is not read): 1 of 3. 2nd: c3 at 0.50 is low: 1 of 1.
    # 3rd: c4 0.99, c8 0.97: 0 of 2.
    assert [(d.messages, d.not_understood) for d in days] == [(3, 1), (1, 1), (2, 0)]
    assert days[0].rate == 1 / 3


def test_top_intents_are_the_most_frequent_first_then_by_name(session: Session) -> None:
    top = conversations.top_intents(session, PERIOD)
    assert [(c.key, c.count) for c in top] == [
        ("invite_team", 2),
        ("request_human", 2),
        ("nlu_fallback", 1),
        ("pricing", 1),
    ]
    assert len(conversations.top_intents(session, PERIOD, limit=1)) == 1
