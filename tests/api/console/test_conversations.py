"""api/routes/console/conversations.py: the conversation list and transcripts, read from the gateway's conversation
log, with the customer beside them."""

import html as html_lib
import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.routes.console.conversations import PAGE_SIZE
from keepwell import accounts, feedback, handoffs, health, health_history, recompute
from keepwell import conversations as log
from keepwell.models import HealthSnapshot, utcnow
from keepwell.segments import segment_of

NOTICE = log.Reply("I'm having trouble answering right now.", role=log.ROLE_SYSTEM)


def _conversation_links(page: str) -> list[str]:
    return re.findall(r'href="/console/conversations/([^"]+)"', page)


def _start(db: Session, customer_id: str | None = None) -> log.ConversationRef:
    conversation = log.start_conversation(db, customer_id, "website")
    db.commit()
    return conversation


def _turn(
    db: Session,
    conversation: log.ConversationRef,
    text: str,
    intent: str | None = None,
    confidence: float | None = None,
    replies: list[log.Reply] | None = None,
    actions: list[str] | None = None,
    **when: Any,
) -> log.MessageView:
    """A customer message answered by the bot, as the gateway logs it."""
    accepted = log.accept(db, conversation, text, None, **when)
    turn = log.TurnInfo(accepted.message.id, intent, confidence, [], actions or [])
    log.answer(db, accepted.message.id, replies or [log.Reply("ok")], turn)
    db.commit()
    return accepted.message


def _customer_with_usage(db: Session) -> accounts.Account:
    return next(account for account in accounts.list_accounts(db) if account.usage is not None)


def test_conversation_list_joins_customers_handoffs_flags_and_misunderstandings(
    csm_client: TestClient, db: Session
) -> None:
    customer = _customer_with_usage(db)
    signed_in, anonymous = _start(db, customer.id), _start(db)
    _turn(db, signed_in, "how do I add a seat?", "ask_howto", 0.91)
    _turn(db, signed_in, "talk to a human", "request_human", 0.97)
    handoffs.request_handoff(db, signed_in.id, customer.id, "asked for a person", [])
    db.commit()
    _turn(db, anonymous, "blorp", "nlu_fallback", 0.3)
    stuck = log.accept(db, anonymous, "anyone there?", None).message
    log.give_notice(db, stuck.id, NOTICE)
    db.commit()
    _start(db)  # started by the widget, never written in: not listed

    page = csm_client.get("/console").text
    assert _conversation_links(page) == [anonymous.id, signed_in.id]  # most recently active first
    rows = page.split("<tr data-conversation=")[1:]
    assert "Anonymous visitor" in rows[0]
    assert rows[0].count('<span class="warn">1</span>') == 2  # one not understood, one open flag
    assert html_lib.escape(customer.name) in rows[1]
    assert "Open handoff" in rows[1]
    assert '<td class="num">2</td>' in rows[1]  # two customer messages
    assert '<td class="num">0</td>' in rows[1]  # nothing misunderstood, no flag


def test_conversation_list_paginates(csm_client: TestClient, db: Session) -> None:
    start = utcnow() - timedelta(hours=1)
    conversations = [_start(db) for _ in range(PAGE_SIZE + 2)]
    for n, conversation in enumerate(conversations):
        _turn(db, conversation, "hello", "greet", 0.99, now=start + timedelta(seconds=n))
    newest_first = [c.id for c in conversations][::-1]
    first = csm_client.get("/console").text
    second = csm_client.get("/console?page=2").text
    assert _conversation_links(first) == newest_first[:PAGE_SIZE]
    assert _conversation_links(second) == newest_first[PAGE_SIZE:]
    assert 'href="/console?page=2"' in first
    assert 'href="/console?page=1"' in second and "page=3" not in second


def test_empty_conversation_list_says_so(csm_client: TestClient) -> None:
    assert "No conversations yet" in csm_client.get("/console").text


def test_transcript_shows_intents_actions_buttons_and_sources(csm_client: TestClient, db: Session) -> None:
    conversation = _start(db)
    answer = log.Reply(
        "Go to Settings > Members and click Invite.\nYou can paste several emails.",
        buttons=[{"title": "That helped", "payload": "/affirm"}, {"title": "Talk to a person", "payload": "/human"}],
        sources=[{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates", "score": 0.82}],
    )
    _turn(db, conversation, "how do I invite my team?", "ask_howto", 0.93, [answer], ["action_answer_from_kb"])
    _turn(db, conversation, "hmm the purple thing", "ask_howto", 0.41)

    response = csm_client.get(f"/console/conversations/{conversation.id}")
    assert response.status_code == 200
    page = response.text
    assert '<span class="intent__name">ask_howto</span> · <span class="intent__confidence">0.93</span>' in page
    assert page.count('class="intent intent--low"') == 1
    low = page[page.index('class="intent intent--low"') :]
    assert '<span class="intent__confidence">0.41</span>' in low and "low confidence" in low
    assert "Actions: <code>action_answer_from_kb</code>" in page
    assert "Go to Settings &gt; Members and click Invite.\nYou can paste several emails." in page
    assert ">That helped</li>" in page and ">Talk to a person</li>" in page
    assert '<a href="/help/getting-started/invite-teammates">Invite teammates</a>' in page
    assert "(0.82)" in page
    assert "Anonymous visitor" in page


def test_transcript_shows_the_notice_the_flag_and_the_late_answer(csm_client: TestClient, db: Session) -> None:
    conversation = _start(db)
    message = log.accept(db, conversation, "what is my plan?", None).message
    log.give_notice(db, message.id, NOTICE)
    db.commit()
    waiting = csm_client.get(f"/console/conversations/{conversation.id}").text
    assert "notice sent, waiting for a late answer" in waiting
    assert "Assistant unavailable</span>\n          open" in waiting
    assert "I&#39;m having trouble answering right now." in waiting

    log.answer(db, message.id, [log.Reply("You are on Growth.")])
    db.commit()
    answered = csm_client.get(f"/console/conversations/{conversation.id}").text
    assert "answered late" in answered
    assert "resolved" in answered and "by assistant" in answered
    assert answered.index("trouble answering") < answered.index("You are on Growth.")


def test_transcript_names_the_flag_the_assistant_raised_on_a_message(csm_client: TestClient, db: Session) -> None:
    conversation = _start(db)
    message = log.accept(db, conversation, "how do I export my projects", None).message
    log.raise_flag(db, conversation.id, "repeated_question", "how do I export my projects", message.id)
    db.commit()
    page = csm_client.get(f"/console/conversations/{conversation.id}").text
    assert '<span class="badge badge--open">Asked the same question again</span>' in page


def test_transcript_escapes_html_from_users_and_the_bot(csm_client: TestClient, db: Session) -> None:
    conversation = _start(db)
    evil = log.Reply(
        "<img src=x onerror=alert(1)>",
        buttons=[{"title": "<b>bold</b>", "payload": "/x"}],
        sources=[{"title": "<i>evil</i>", "url": "javascript:alert(1)"}],
    )
    _turn(db, conversation, '<script>alert("pwned")</script>', "nlu_fallback", 0.2, [evil], ["<svg onload=x>"])
    feedback.record_feedback(db, conversation.id, None, "<script>alert('feedback')</script>")
    db.commit()

    page = csm_client.get(f"/console/conversations/{conversation.id}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<svg" not in page
    assert 'href="javascript:' not in page and "&lt;i&gt;evil&lt;/i&gt;" in page
    feedback_page = csm_client.get("/console/feedback").text
    assert "<script>alert" not in feedback_page
    assert "&lt;script&gt;alert(&#39;feedback&#39;)&lt;/script&gt;" in feedback_page


def test_transcript_shows_the_customer_with_segment_and_health(csm_client: TestClient, db: Session) -> None:
    customer = _customer_with_usage(db)
    conversation = _start(db, customer.id)
    _turn(db, conversation, "are we on track?", "ask_account_health", 0.88)
    expected = health.score(customer)

    page = csm_client.get(f"/console/conversations/{conversation.id}").text
    panel = page[page.index('id="customer-title"') : page.index('id="handoff-title"')]
    assert html_lib.escape(customer.name) in panel
    assert html_lib.escape(segment_of(customer).label) in panel
    assert f'<span class="health__number">{expected.score}</span>' in panel
    assert f'<span class="badge badge--{expected.band}">{expected.band.capitalize()}</span>' in panel
    for driver in expected.drivers:
        assert driver.label in panel


def test_unknown_conversation_is_a_404_page(csm_client: TestClient) -> None:
    response = csm_client.get("/console/conversations/" + "n" * 32)
    assert response.status_code == 404
    assert "There is no such conversation" in response.text


def test_transcript_shows_the_latest_snapshot_with_trend_and_plain_words(csm_client: TestClient, db: Session) -> None:
    customer = _customer_with_usage(db)
    conversation = _start(db, customer.id)
    today = date.today()
    recompute.recompute(db, today - timedelta(days=7))
    db.execute(update(HealthSnapshot).values(score=0))  # last week was worse
    recompute.recompute(db, today)
    db.commit()
    expected = health_history.latest(db, customer.id)
    assert expected is not None and expected.trend == "up"

    page = csm_client.get(f"/console/conversations/{conversation.id}").text
    panel = page[page.index('id="customer-title"') : page.index('id="handoff-title"')]
    assert f'<span class="health__number">{expected.score}</span>' in panel
    assert f"trending up (was {expected.previous_score})" in panel
    for driver in expected.drivers:
        assert html_lib.escape(driver.text) in panel
