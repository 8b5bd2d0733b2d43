"""keepwell/conversations/inbox.py and filters.py: every filter alone and combined, counts, pagination and the rows'
details, on a hand-built log; the filter query on SQLite and on PostgreSQL."""

from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell.conversations import filters, inbox
from keepwell.db import session_factory
from tests.keepwell.conversations.conftest import NOV, World, add_conversation, build_world


def _ids(session: Session, query: str) -> list[str]:
    page = inbox.search(session, filters.parse(parse_qsl(query)))
    ids = [row.conversation_id for row in page.rows]
    assert page.total == len(ids), query  # the count follows the filters
    return ids


# Each filter alone, then combined; the conversations expected, newest first.
CASES = [
    ("", ["conv_c", "conv_b", "conv_a"]),
    ("q=invite", ["conv_a"]),
    ("q=INVITE+team", ["conv_a"]),
    ("q=settings", ["conv_a"]),  # the assistant's words are searched too
    ("q=invite+cancel", []),  # every word in the same conversation
    ("q=nothing-like-this", []),
    ("from=2026-11-15", ["conv_c"]),
    ("to=2026-11-05", ["conv_a"]),
    ("from=2026-11-05&to=2026-11-12", ["conv_b"]),
    ("channel=in_app", ["conv_b"]),
    ("channel=website", ["conv_a"]),
    ("channel=other", ["conv_c"]),
    ("customer=bolt", ["conv_b"]),
    ("customer=cus_a", ["conv_a"]),
    ("segment=enterprise", ["conv_b"]),
    ("segment=small", ["conv_a"]),
    ("segment=adoption", ["conv_b", "conv_a"]),
    ("band=green", ["conv_a"]),  # Acme's latest snapshot, not its older red one
    ("band=red", ["conv_b"]),
    ("owner=none", ["conv_b"]),
    ("intent=request_cancellation", ["conv_b"]),
    ("confidence_below=0.6", ["conv_c", "conv_b"]),
    ("confidence_below=0.4", ["conv_b"]),
    ("fallback=yes", ["conv_b"]),
    ("fallback=no", ["conv_c", "conv_a"]),
    ("handoff=yes", ["conv_b"]),
    ("handoff=no", ["conv_c", "conv_a"]),
    ("csat=given", ["conv_b"]),
    ("csat=2", ["conv_b"]),
    ("csat=3", []),
    ("csat=none", ["conv_c", "conv_a"]),
    ("tag=churn-risk", ["conv_b"]),
    ("tag=Onboarding", ["conv_a"]),
    ("review=needs_review", ["conv_b"]),
    ("review=new", ["conv_a"]),
    ("min_messages=3", ["conv_b"]),
    ("max_messages=1", ["conv_c"]),
    ("min_messages=2&max_messages=2", ["conv_a"]),
    ("channel=in_app&band=red&fallback=yes&csat=2&q=cancel", ["conv_b"]),
    ("channel=in_app&band=green", []),
    ("confidence_below=0.6&handoff=no", ["conv_c"]),
]


def test_every_filter_alone_and_combined_on_both_backends(backend: Engine) -> None:
    with session_factory(backend)() as session:
        world = build_world(session)
        for query, expected in CASES:
            assert _ids(session, query) == expected, query
        assert _ids(session, f"owner={world.csm.id}") == ["conv_a"]
        assert _ids(session, f"owner={world.other_csm.id}") == []


def test_rows_carry_what_the_inbox_shows(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    rows = {row.conversation_id: row for row in inbox.search(session, filters.InboxFilter()).rows}
    bolt = rows["conv_b"]
    assert (bolt.customer_name, bolt.channel, bolt.customer_messages, bolt.not_understood) == (
        "Bolt Industries", "in_app", 3, 1,
    )  # fmt: skip
    assert bolt.lowest_confidence == pytest.approx(0.3)
    assert (bolt.tags, bolt.review_status, bolt.handoff_status, bolt.csat) == (
        ["churn-risk"],
        "needs_review",
        "closed",
        2,
    )
    assert bolt.preview == "I want to cancel our plan"
    assert bolt.last_at == NOV + timedelta(days=9, minutes=3)
    anonymous = rows["conv_c"]
    assert (anonymous.customer_name, anonymous.not_understood, anonymous.handoff_status) == (None, 1, None)
    assert "conv_d" not in rows  # nobody wrote in it


def test_pages_newest_first_with_the_total_on_every_page(session: Session) -> None:
    for n in range(inbox.PAGE_SIZE + 5):
        add_conversation(
            session, f"conv_{n:02d}", None, "website", NOV + timedelta(hours=n), [("hello", "greet", 0.99)]
        )
    session.commit()
    first = inbox.search(session, filters.InboxFilter(), page=1)
    second = inbox.search(session, filters.InboxFilter(), page=2)
    beyond = inbox.search(session, filters.InboxFilter(), page=3)
    assert [r.conversation_id for r in first.rows] == [f"conv_{n:02d}" for n in range(29, 4, -1)]
    assert [r.conversation_id for r in second.rows] == [f"conv_{n:02d}" for n in range(4, -1, -1)]
    assert (first.total, first.pages, first.has_next, second.has_next) == (30, 2, True, False)
    assert beyond.rows == [] and beyond.total == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-10&to=2026-11-01", "from"),
        ("channel=fax", "channel"),
        ("segment=gold", "segment"),
        ("band=purple", "band"),
        ("owner=me", "owner"),
        ("intent=not+an+intent!", "intent"),
        ("confidence_below=2", "confidence_below"),
        ("confidence_below=low", "confidence_below"),
        ("confidence_below=0", "confidence_below"),
        ("fallback=maybe", "fallback"),
        ("handoff=1", "handoff"),
        ("csat=6", "csat"),
        ("tag=%3Cscript%3E", "tag"),
        ("review=done", "review"),
        ("min_messages=-1", "min_messages"),
        ("max_messages=lots", "max_messages"),
        ("min_messages=5&max_messages=2", "min_messages"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_a_bad_filter_value_is_refused_with_its_field_named(query: str, field: str) -> None:
    with pytest.raises(filters.InvalidFilter, match=f"^{field}: "):
        filters.parse(parse_qsl(query))


def test_filters_round_trip_through_a_canonical_query_string() -> None:
    parsed = filters.parse(parse_qsl("page=3&view=2&review=new&q=  invite   team &from=2026-11-01&tag=Pricing&csat=2"))
    assert parsed.query_string() == "q=invite+team&from=2026-11-01&csat=2&tag=pricing&review=new"
    assert filters.parse(parse_qsl(parsed.query_string())) == parsed
    assert not filters.parse([]).active


def test_text_search_treats_operators_and_quotes_as_plain_words(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    for query in ('q="invite', "q=invite+OR+cancel", "q=invite*", "q=NEAR(invite)", "q=%22%22", "q=-"):
        inbox.search(session, filters.parse(parse_qsl(query)))  # no FTS syntax error
    assert _ids(session, "q=invit") == ["conv_a"]  # a word's beginning finds it
