"""The inbox page (api/routes/console/conversations.py): filters as query parameters, the count that follows them,
pages that keep them, and bad values answered with a message, never a 500."""

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import conversations as log
from keepwell.conversations import review
from keepwell.staff import StaffView


def _links(page: str) -> list[str]:
    return re.findall(r'href="/console/conversations/([^"]+)"', page)


def _chat(db: Session, text: str, intent: str, confidence: float, channel: str = "website") -> str:
    conversation = log.start_conversation(db, None, channel)
    db.commit()
    accepted = log.accept(db, conversation, text, None)
    log.answer(
        db, accepted.message.id, [log.Reply("ok")], log.TurnInfo(accepted.message.id, intent, confidence, [], [])
    )
    db.commit()
    return conversation.id


def test_filters_in_the_address_narrow_the_list_and_the_count(
    csm_client: TestClient, db: Session, demo_csm: StaffView
) -> None:
    invite = _chat(db, "how do I invite my team", "ask_howto", 0.93)
    blorp = _chat(db, "blorp <b>zap</b>", "nlu_fallback", 0.2, channel="in_app")
    review.add_tag(db, blorp, "odd", demo_csm)
    db.commit()

    everything = csm_client.get("/console")
    assert everything.status_code == 200
    assert _links(everything.text) == [blorp, invite]
    assert "2 conversations in all" in everything.text

    searched = csm_client.get("/console?q=invite").text
    assert _links(searched) == [invite]
    assert "1 conversation matches these filters" in searched
    assert 'value="invite"' in searched  # the form shows the filter it applied

    combined = csm_client.get("/console?fallback=yes&channel=in_app&tag=odd&confidence_below=0.5").text
    assert _links(combined) == [blorp]
    assert "blorp &lt;b&gt;zap&lt;/b&gt;" in combined  # the preview is text, never markup
    assert _links(csm_client.get("/console?fallback=yes&channel=website").text) == []
    assert "No conversation matches these filters." in csm_client.get("/console?review=reviewed").text


def test_pages_keep_the_filters(csm_client: TestClient, db: Session) -> None:
    ids = [_chat(db, f"question {n}", "ask_faq", 0.9) for n in range(27)]
    first = csm_client.get("/console?intent=ask_faq").text
    assert "27 conversations match these filters · page 1 of 2" in first
    assert 'href="/console?intent=ask_faq&amp;page=2"' in first
    second = csm_client.get("/console?intent=ask_faq&page=2").text
    assert _links(second) == ids[:2][::-1]


def test_a_bad_filter_gets_a_400_page_that_says_which_and_why(csm_client: TestClient) -> None:
    for query, message in (
        ("from=2026-02-30", "from: a day as YYYY-MM-DD"),
        ("confidence_below=1.5", "confidence_below: a confidence above 0 and at most 1"),
        ("channel=%3Cscript%3E", "channel: one of website, in_app, other"),
        ("min_messages=9&max_messages=2", "min_messages: the minimum is above the maximum"),
    ):
        response = csm_client.get(f"/console?{query}")
        assert response.status_code == 400, query
        assert message in response.text, query
        assert "<script>" not in response.text
    assert csm_client.get("/console?page=zero").status_code == 422
    assert csm_client.get("/console?page=0").status_code == 422
