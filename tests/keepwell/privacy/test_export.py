"""keepwell/privacy/export.py: the conversations a filter selects (its own, or the inbox's: exactly what the inbox
lists), one CSV row per message with cells a spreadsheet cannot run as formulas, or one JSON object per conversation;
read a batch at a time."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell.conversations import filters, inbox
from keepwell.db import session_factory, upgrade
from keepwell.models import Conversation, Message
from keepwell.privacy import export
from keepwell.privacy.export import ExportError, ExportFilter
from tests.keepwell.conversations.conftest import build_world


@pytest.fixture
def seeded(engine: Engine, session: Session) -> Engine:
    """Four conversations of three messages each."""
    _seed(session)
    return engine


@pytest.fixture
def seeded_both(database: Engine) -> Iterator[Engine]:
    """The same on SQLite and on PostgreSQL (the filters and the keyset paging are SQL)."""
    upgrade(database)
    with session_factory(database)() as session:
        _seed(session)
    yield database


def _seed(session: Session) -> None:
    conversations = [
        ("c-jan-web", "cus_1", "website", datetime(2026, 1, 10, 9, tzinfo=UTC)),
        ("c-feb-app", "cus_1", "in_app", datetime(2026, 2, 10, 9, tzinfo=UTC)),
        ("c-feb-visitor", None, "website", datetime(2026, 2, 28, 23, 59, tzinfo=UTC)),
        ("c-mar-other", "cus_2", "in_app", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
    ]
    for conversation_id, customer_id, channel, at in conversations:
        session.add(Conversation(id=conversation_id, customer_id=customer_id, channel=channel, created_at=at))
        session.flush()
        session.add_all(
            [
                Message(conversation_id=conversation_id, role="customer", text=f"=HYPERLINK(\"x\") {conversation_id}",
                        state="answered", intent="ask_price", confidence=0.8125, created_at=at),
                Message(conversation_id=conversation_id, role="bot", text="+1 plan, -2 seats, @all", state="sent",
                        created_at=at),
                Message(conversation_id=conversation_id, role="agent", text="Hi, Ana here", state="sent",
                        author_name="Ana", created_at=at),
            ]
        )  # fmt: skip
    session.commit()


def _csv(engine: Engine, selection: ExportFilter, batch: int = 200) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(export.csv_chunks(engine, selection, batch)))))


def test_csv_has_one_row_per_message_with_formulas_defused(seeded: Engine) -> None:
    rows = _csv(seeded, ExportFilter(customer_id="cus_1"))
    assert list(rows[0]) == list(export.COLUMNS)
    assert [(r["conversation_id"], r["role"]) for r in rows] == [
        ("c-jan-web", "customer"), ("c-jan-web", "bot"), ("c-jan-web", "agent"),
        ("c-feb-app", "customer"), ("c-feb-app", "bot"), ("c-feb-app", "agent"),
    ]  # fmt: skip
    customer, bot, agent = rows[:3]
    assert customer["text"] == '\'=HYPERLINK("x") c-jan-web'
    assert (customer["author"], customer["intent"], customer["confidence"]) == ("cus_1", "ask_price", "0.8125")
    assert customer["time"] == "2026-01-10T09:00:00+00:00" and customer["channel"] == "website"
    assert (bot["text"], bot["author"], bot["intent"], bot["confidence"]) == (
        "'+1 plan, -2 seats, @all", "Keepwell assistant", "", ""
    )  # fmt: skip
    assert agent["author"] == "Ana"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_defused(value: str) -> None:
    assert export.safe_cell(value) == "'" + value
    assert export.safe_cell("plain =1") == "plain =1" and export.safe_cell(None) == ""


def test_filters_combine(seeded_both: Engine) -> None:
    def ids(selection: ExportFilter) -> list[str]:
        return [record["id"] for record in export.records(seeded_both, selection, batch=1)]

    assert ids(ExportFilter()) == ["c-jan-web", "c-feb-app", "c-feb-visitor", "c-mar-other"]
    assert ids(ExportFilter(since=date(2026, 2, 1), until=date(2026, 2, 28))) == ["c-feb-app", "c-feb-visitor"]
    assert ids(ExportFilter(channel="website")) == ["c-jan-web", "c-feb-visitor"]
    assert ids(ExportFilter(channel="in_app", customer_id="cus_2")) == ["c-mar-other"]
    assert ids(ExportFilter(conversation_ids=["c-mar-other", "c-jan-web"], channel="in_app")) == ["c-mar-other"]


def test_json_is_one_document_a_conversation_at_a_time(seeded: Engine) -> None:
    chunks = list(export.json_chunks(seeded, ExportFilter(channel="website"), batch=1))
    assert len(chunks) == 4  # opening, two conversations, closing
    document = json.loads("".join(chunks))
    [first, visitor] = document["conversations"]
    assert first["id"] == "c-jan-web" and first["customer_id"] == "cus_1"
    assert [m["role"] for m in first["messages"]] == ["customer", "bot", "agent"]
    assert first["messages"][0]["text"] == '=HYPERLINK("x") c-jan-web'  # JSON is data, not a spreadsheet
    assert visitor["customer_id"] is None and visitor["messages"][0]["author"] == "visitor"


def test_counts_and_description(seeded: Engine, session: Session) -> None:
    selection = ExportFilter(since=date(2026, 2, 1), channel="website")
    assert export.count(session, selection) == (1, 3)
    assert selection.describe() == {"from": "2026-02-01", "channel": "website"}
    assert ExportFilter(conversation_ids=["a", "b"]).describe() == {"conversations": 2}
    assert "".join(export.json_chunks(seeded, ExportFilter(customer_id="nobody"))) == '{"conversations": []}\n'


def test_bad_filters_are_refused() -> None:
    with pytest.raises(ExportError, match="after the end"):
        ExportFilter(since=date(2026, 2, 2), until=date(2026, 2, 1))
    with pytest.raises(ExportError, match="Channel"):
        ExportFilter(channel="fax")


@pytest.mark.parametrize(
    "query",
    ["", "q=invite", "fallback=yes", "channel=in_app&handoff=yes", "tag=onboarding", "band=red", "review=reviewed"],
)
def test_the_inbox_s_filters_export_exactly_the_conversations_it_lists(database: Engine, query: str) -> None:
    upgrade(database)
    with session_factory(database)() as session:
        build_world(session)
        chosen = filters.parse(parse_qsl(query))
        listed = {row.conversation_id for row in inbox.search(session, chosen, page_size=100).rows}
        selection = ExportFilter(inbox=chosen)
        exported = [record for record in export.records(database, selection, batch=1)]
        assert {record["id"] for record in exported} == listed and listed  # every filter here matches something
        messages = sum(len(record["messages"]) for record in exported)
        assert export.count(session, selection) == (len(listed), messages)
        assert selection.describe() == {"inbox": chosen.query_string()}


def test_the_inbox_never_lists_a_conversation_nobody_wrote_in_nor_does_its_export(database: Engine) -> None:
    upgrade(database)
    with session_factory(database)() as session:
        build_world(session)  # conv_d was opened by the widget and never written in
        ids = [record["id"] for record in export.records(database, ExportFilter(inbox=filters.InboxFilter()))]
        assert sorted(ids) == ["conv_a", "conv_b", "conv_c"]
        narrowed = ExportFilter(inbox=filters.parse([("channel", "website")]), customer_id="cus_a")
        assert [record["id"] for record in export.records(database, narrowed)] == ["conv_a"]
