"""api/routes/console.py: sign-in, CSRF, the conversation list, transcripts, handoff release, feedback."""

import html as html_lib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from limits import parse
from sqlalchemy.orm import Session

from api.limiter import limiter
from api.main import create_app
from api.routes.console import PAGE_SIZE, safe_next
from api.settings import Settings, get_settings
from keepwell import accounts, feedback, handoffs, health
from keepwell.models import Conversation
from keepwell.segments import segment_of
from tests.api.conftest import CSM_PASSWORD, CSM_USERNAME, TrackerEvents
from tests.api.fakes import FakeRasa

CsrfOf = Callable[[TestClient, str], str]


def _login(client: TestClient, token: str, password: str = CSM_PASSWORD, next_url: str = "") -> Any:
    # Any: the test client's response class comes from the HTTP library Starlette picks, not from our httpx.
    return client.post(
        "/console/login",
        data={"username": CSM_USERNAME, "password": password, "csrf": token, "next": next_url},
        follow_redirects=False,
    )


def _conversation_links(page: str) -> list[str]:
    return re.findall(r'href="/console/conversations/([^"]+)"', page)


def _conversation(db: Session, conversation_id: str, customer_id: str | None) -> None:
    db.add(Conversation(id=conversation_id, customer_id=customer_id))
    db.commit()


def _customer_with_usage(db: Session) -> accounts.Account:
    return next(account for account in accounts.list_accounts(db) if account.usage is not None)


# ---- signing in and out ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/console", "/console/handoffs", "/console/feedback", "/console/conversations/abc"])
def test_console_pages_redirect_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/login?next={path}"


def test_login_page_is_an_accessible_form_with_a_csrf_token(client: TestClient) -> None:
    page = client.get("/console/login?next=/console/handoffs").text
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page
    assert re.search(r'name="csrf" value="[^"]{20,}"', page)
    assert 'name="next" value="/console/handoffs"' in page
    assert "Log out" not in page


def test_wrong_password_is_refused_with_401(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), password="not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_unknown_user_is_refused_with_the_same_message(client: TestClient, csrf_of: CsrfOf) -> None:
    token = csrf_of(client, "/console/login")
    response = client.post(
        "/console/login",
        data={"username": "nobody@example.test", "password": CSM_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_right_password_signs_in_and_the_pages_render(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"))
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    for path, heading in [
        ("/console", "Conversations"),
        ("/console/handoffs", "Handoffs"),
        ("/console/feedback", "Product feedback"),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert f"<h1>{heading}" in page.text
        assert f"Signed in as <strong>{CSM_USERNAME}</strong>" in page.text


def test_login_without_or_with_a_wrong_csrf_token_is_rejected(client: TestClient, csrf_of: CsrfOf) -> None:
    csrf_of(client, "/console/login")  # the session has a token, the forms below do not carry it
    without = client.post("/console/login", data={"username": CSM_USERNAME, "password": CSM_PASSWORD})
    assert without.status_code == 403
    wrong = _login(client, "forged-token")
    assert wrong.status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_login_follows_a_console_next_path(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), next_url="/console/handoffs")
    assert response.headers["location"] == "/console/handoffs"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console",
        "//evil.example/console",
        "/\\evil.example",
        "/console//evil.example",
        "/console\\@evil.example",
        "/consolex",
        "/help",
        "javascript:alert(1)",
        " /console",
    ],
)
def test_login_refuses_to_redirect_off_the_console(client: TestClient, csrf_of: CsrfOf, target: str) -> None:
    response = _login(client, csrf_of(client, "/console/login"), next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console", "/console"),
        ("/console/conversations/abc?x=1", "/console/conversations/abc?x=1"),
        ("/console?page=2", "/console?page=2"),
        (None, "/console"),
        ("", "/console"),
        ("https://evil.example", "/console"),
        ("/console/\n/x", "/console"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_signing_in_starts_a_new_session(client: TestClient, csrf_of: CsrfOf) -> None:
    before = csrf_of(client, "/console/login")
    assert _login(client, before).status_code == 303
    # Nothing from the anonymous session survives signing in, so its CSRF token is no longer accepted.
    assert client.post("/console/logout", data={"csrf": before}).status_code == 403
    after = csrf_of(client, "/console")
    assert after != before
    assert client.post("/console/logout", data={"csrf": after}, follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token(csm_client: TestClient, csrf_of: CsrfOf) -> None:
    assert csm_client.post("/console/logout", data={}).status_code == 403
    assert csm_client.get("/console").status_code == 200
    token = csrf_of(csm_client, "/console")
    response = csm_client.post("/console/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    assert csm_client.get("/console", follow_redirects=False).status_code == 303


def test_login_is_rate_limited(tmp_path: Path, csrf_of: CsrfOf) -> None:
    settings = Settings(data_dir=tmp_path, csm_username=CSM_USERNAME, csm_password=CSM_PASSWORD)
    allowed = parse(get_settings().login_rate_limit).amount
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        limiter.reset()
        token = csrf_of(client, "/console/login")
        statuses = [_login(client, token, password="wrong").status_code for _ in range(allowed + 1)]
    assert statuses == [401] * allowed + [429]


# ---- conversations --------------------------------------------------------------------------------------------


def test_conversation_list_joins_customers_handoffs_and_fallbacks(
    csm_client: TestClient, db: Session, tracker: TrackerEvents
) -> None:
    customer = _customer_with_usage(db)
    signed_in, anonymous = "c" * 32, "a" * 32
    _conversation(db, signed_in, customer.id)
    _conversation(db, anonymous, None)
    tracker.session_start(signed_in)
    tracker.user(signed_in, "how do I add a seat?", "ask_howto", 0.91)
    tracker.bot(signed_in, "Open Settings > Billing.")
    tracker.user(signed_in, "talk to a human", "request_human", 0.97)
    tracker.session_start(anonymous)
    tracker.user(anonymous, "blorp", "nlu_fallback", 0.3)
    tracker.user(anonymous, "zzz", "nlu_fallback", 0.2)
    handoffs.request_handoff(db, signed_in, customer.id, "asked for a person", [])
    db.commit()

    page = csm_client.get("/console").text
    assert _conversation_links(page) == [anonymous, signed_in]  # most recent first
    rows = page.split("<tr>")[2:]
    assert "Anonymous visitor" in rows[0]
    assert '<span class="warn">2</span>' in rows[0]
    assert html_lib.escape(customer.name) in rows[1]
    assert "Open handoff" in rows[1]
    assert '<td class="num">2</td>' in rows[1]  # two user messages


def test_conversation_list_paginates(csm_client: TestClient, tracker: TrackerEvents) -> None:
    senders = [f"conversation-{n:03d}" for n in range(PAGE_SIZE + 2)]
    for sender in senders:
        tracker.user(sender, "hello", "greet", 0.99)
    first = csm_client.get("/console").text
    second = csm_client.get("/console?page=2").text
    assert _conversation_links(first) == senders[::-1][:PAGE_SIZE]
    assert _conversation_links(second) == senders[::-1][PAGE_SIZE:]
    assert 'href="/console?page=2"' in first
    assert 'href="/console?page=1"' in second and "page=3" not in second


def test_empty_conversation_list_says_so(csm_client: TestClient) -> None:
    assert "No conversations yet" in csm_client.get("/console").text


def test_transcript_shows_intents_with_confidence_buttons_and_sources(
    csm_client: TestClient, db: Session, tracker: TrackerEvents
) -> None:
    conversation_id = "t" * 32
    _conversation(db, conversation_id, None)
    tracker.session_start(conversation_id)
    tracker.user(conversation_id, "how do I invite my team?", "ask_howto", 0.93)
    tracker.action(conversation_id, "action_answer_from_kb")
    tracker.bot(
        conversation_id,
        "Go to Settings > Members and click Invite.\nYou can paste several emails.",
        buttons=[{"title": "That helped", "payload": "/affirm"}, {"title": "Talk to a person", "payload": "/human"}],
        sources=[{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}],
    )
    tracker.user(conversation_id, "hmm the purple thing", "ask_howto", 0.41)

    response = csm_client.get(f"/console/conversations/{conversation_id}")
    assert response.status_code == 200
    page = response.text
    assert '<span class="intent__name">ask_howto</span> · <span class="intent__confidence">0.93</span>' in page
    assert page.count('class="intent intent--low"') == 1
    low = page[page.index('class="intent intent--low"') :]
    assert '<span class="intent__confidence">0.41</span>' in low and "low confidence" in low
    assert "Go to Settings &gt; Members and click Invite.\nYou can paste several emails." in page
    assert ">That helped</li>" in page and ">Talk to a person</li>" in page
    assert '<a href="/help/getting-started/invite-teammates">Invite teammates</a>' in page
    assert "action_answer_from_kb" not in page
    assert "Anonymous visitor" in page


def test_transcript_escapes_html_from_users_and_the_bot(
    csm_client: TestClient, db: Session, tracker: TrackerEvents
) -> None:
    conversation_id = "x" * 32
    tracker.user(conversation_id, '<script>alert("pwned")</script>', "nlu_fallback", 0.2)
    tracker.bot(
        conversation_id,
        "<img src=x onerror=alert(1)>",
        buttons=[{"title": "<b>bold</b>", "payload": "/x"}],
        sources=[{"title": "<i>evil</i>", "url": "javascript:alert(1)"}],
    )
    feedback.record_feedback(db, conversation_id, None, "<script>alert('feedback')</script>")
    db.commit()

    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert 'href="javascript:' not in page and "&lt;i&gt;evil&lt;/i&gt;" in page
    feedback_page = csm_client.get("/console/feedback").text
    assert "<script>alert" not in feedback_page
    assert "&lt;script&gt;alert(&#39;feedback&#39;)&lt;/script&gt;" in feedback_page


def test_transcript_shows_the_customer_with_segment_and_health(
    csm_client: TestClient, db: Session, tracker: TrackerEvents
) -> None:
    customer = _customer_with_usage(db)
    conversation_id = "h" * 32
    _conversation(db, conversation_id, customer.id)
    tracker.user(conversation_id, "are we on track?", "ask_account_health", 0.88)
    expected = health.score(customer)

    page = csm_client.get(f"/console/conversations/{conversation_id}").text
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


# ---- handoffs and feedback ------------------------------------------------------------------------------------


def test_release_handoff_gives_the_conversation_back(
    csm_client: TestClient, db: Session, tracker: TrackerEvents, csrf_of: CsrfOf, rasa: FakeRasa
) -> None:
    conversation_id = "r" * 32
    _conversation(db, conversation_id, None)
    tracker.user(conversation_id, "I want a person", "request_human", 0.95)
    handoff = handoffs.request_handoff(db, conversation_id, None, "asked for a person", [])
    db.commit()
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "asked for a person" in page and "Open handoff" in page
    assert f'action="/console/handoffs/{handoff.id}/release"' in page

    token = csrf_of(csm_client, "/console")
    response = csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/conversations/{conversation_id}"
    assert rasa.resumed == [conversation_id]
    db.expire_all()
    released = handoffs.for_conversations(db, [conversation_id])[conversation_id]
    assert (released.status, released.released_by) == ("released", CSM_USERNAME)
    assert not handoffs.is_active(db, conversation_id)
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "Released" in page and "/release" not in page


def test_release_keeps_the_handoff_open_when_rasa_cannot_resume(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, rasa: FakeRasa
) -> None:
    handoff = handoffs.request_handoff(db, "u" * 32, None, "asked for a person", [])
    db.commit()
    rasa.available = False
    token = csrf_of(csm_client, "/console")
    response = csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": token})
    assert response.status_code == 503
    db.expire_all()
    assert handoffs.is_active(db, "u" * 32)


def test_release_needs_csrf_and_a_known_handoff(csm_client: TestClient, db: Session, csrf_of: CsrfOf) -> None:
    handoff = handoffs.request_handoff(db, "q" * 32, None, "asked for a person", [])
    db.commit()
    assert csm_client.post(f"/console/handoffs/{handoff.id}/release", data={}).status_code == 403
    assert csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": "forged"}).status_code == 403
    db.expire_all()
    assert handoffs.is_active(db, "q" * 32)
    token = csrf_of(csm_client, "/console")
    assert csm_client.post("/console/handoffs/9999/release", data={"csrf": token}).status_code == 404
    huge = csm_client.post(f"/console/handoffs/{10**25}/release", data={"csrf": token})
    assert huge.status_code == 422


def test_release_from_the_handoff_list_returns_there(csm_client: TestClient, db: Session, csrf_of: CsrfOf) -> None:
    customer = _customer_with_usage(db)
    open_one = handoffs.request_handoff(db, "o" * 32, customer.id, "billing dispute", [])
    done = handoffs.request_handoff(db, "d" * 32, None, "wants a demo", [])
    handoffs.release(db, done.id, "another-csm")
    db.commit()
    page = csm_client.get("/console/handoffs").text
    open_section = page[page.index('id="open-title"') : page.index('id="released-title"')]
    released_section = page[page.index('id="released-title"') :]
    assert "billing dispute" in open_section and html_lib.escape(customer.name) in open_section
    assert "wants a demo" in released_section and "by another-csm" in released_section

    token = csrf_of(csm_client, "/console/handoffs")
    response = csm_client.post(
        f"/console/handoffs/{open_one.id}/release",
        data={"csrf": token, "next": "/console/handoffs"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/handoffs"
    assert "No open handoffs." in csm_client.get("/console/handoffs").text


def test_handoff_list_shows_the_conversation_at_handoff_escaped(csm_client: TestClient, db: Session) -> None:
    transcript = [
        {"role": "user", "text": "<b>invoice</b> is wrong", "intent": "ask_faq"},
        {"role": "bot", "text": "Shall I get a person?"},
        {"role": "user", "text": "yes please", "intent": "affirm"},
    ]
    handoffs.request_handoff(db, "t" * 32, None, "invoice is wrong", transcript)
    db.commit()
    page = csm_client.get("/console/handoffs").text
    assert "Conversation at handoff (3 messages)" in page
    assert "&lt;b&gt;invoice&lt;/b&gt; is wrong" in page and "<b>invoice</b>" not in page
    assert "(affirm)" in page


def test_feedback_page_lists_feedback_newest_first(csm_client: TestClient, db: Session) -> None:
    customer = _customer_with_usage(db)
    feedback.record_feedback(db, "f" * 32, customer.id, "Dark mode please")
    db.commit()
    feedback.record_feedback(db, "g" * 32, None, "Gantt export to PDF")
    db.commit()
    page = csm_client.get("/console/feedback").text
    assert page.index("Gantt export to PDF") < page.index("Dark mode please")
    assert html_lib.escape(customer.name) in page and "Anonymous visitor" in page
    assert f'href="/console/conversations/{"f" * 32}"' in page
