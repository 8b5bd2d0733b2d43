"""api/routes/console/flags.py: the flagged queue page (reasons in plain words, ranked), resolving an entry with a
note (CSRF-protected, audited), an unknown conversation and an over-long note refused."""

import html as html_lib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keepwell import accounts, audit, staff
from keepwell.conversations import flag_queue
from keepwell.conversations.flags import raise_flag
from keepwell.models import Conversation, ConversationFlag, Customer, Message
from tests.api.console.conftest import post_form

PAGE = "/console/flags"
Entries = Callable[..., list[audit.AuditEntry]]


def _flagged(db: Session) -> tuple[str, str]:
    """A demo account's conversation with a churn moment, and an anonymous one with a fallback."""
    account = accounts.list_accounts(db)[0]
    db.add(Conversation(id="conv_churn", customer_id=account.id))
    db.add(Conversation(id="conv_anon", customer_id=None))
    db.flush()
    raise_flag(db, "conv_churn", "churn_moment", "we are <b>leaving</b>")
    db.add(Message(conversation_id="conv_anon", role="customer", text="blorp", state="answered",
                   intent="nlu_fallback", confidence=0.2))  # fmt: skip
    db.commit()
    return account.id, account.name


def test_the_queue_lists_each_conversation_with_why_most_valuable_first(csm_client: TestClient, db: Session) -> None:
    account_id, name = _flagged(db)
    response = csm_client.get(PAGE)
    assert response.status_code == 200
    page = html_lib.unescape(response.text)
    assert 'aria-current="page">Flagged' in page
    assert page.index("conv_churn") < page.index("conv_anon")  # an account with ARR before a visitor
    assert f'href="/console/customers/{account_id}">{name}</a>' in page
    assert "Churn moment: 'we are <b>leaving</b>'" in page  # shown as text
    assert "&lt;b&gt;leaving" in response.text
    assert "Fallback or low confidence on 1 message" in page and "Anonymous visitor" in page
    assert 'href="/console/conversations/conv_anon"' in page


def test_an_empty_queue_says_so(csm_client: TestClient) -> None:
    assert "Nothing flagged" in csm_client.get(PAGE).text


def test_resolving_takes_it_off_the_queue_and_is_audited(csm_client: TestClient, db: Session, entries: Entries) -> None:
    _flagged(db)
    response = post_form(csm_client, PAGE, "/console/flags/conv_churn/resolve", {"note": "called the champion"})
    assert response.status_code == 303 and response.headers["location"] == PAGE
    page = csm_client.get(PAGE).text
    assert "conv_churn" not in page and "conv_anon" in page and "off the queue" in page
    [entry] = entries(action="flag.resolve")
    assert entry.target_id == "conv_churn" and entry.detail == {"note": "called the champion", "flags_closed": 1}
    db.expire_all()
    flag = db.scalars(select(ConversationFlag).where(ConversationFlag.reason == "churn_moment")).one()
    assert flag.resolved_at is not None and flag.resolved_by == entry.actor


def test_without_the_csrf_token_nothing_is_resolved(csm_client: TestClient, db: Session, entries: Entries) -> None:
    _flagged(db)
    assert csm_client.post("/console/flags/conv_churn/resolve", data={"note": "x"}).status_code == 403
    assert entries(action="flag.resolve") == []
    db.expire_all()
    assert flag_queue.queue(db).total == 2


def test_an_unknown_conversation_is_404_and_a_long_note_is_refused(
    csm_client: TestClient, db: Session, entries
) -> None:  # type: ignore[no-untyped-def]
    _flagged(db)
    assert post_form(csm_client, PAGE, "/console/flags/nope/resolve").status_code == 404
    long_note = "x" * (flag_queue.MAX_NOTE_CHARS + 1)
    response = post_form(csm_client, PAGE, "/console/flags/conv_churn/resolve", {"note": long_note})
    assert response.status_code == 303
    assert "The note is too long" in csm_client.get(PAGE).text
    assert entries(action="flag.resolve") == []
    assert csm_client.get(f"{PAGE}?page=0").status_code == 422


def test_the_queue_filters_by_reason_and_mine_in_the_url_with_the_count_following(
    csm_client: TestClient, db: Session
) -> None:
    _flagged(db)
    page = csm_client.get(f"{PAGE}?reason=not_understood").text
    assert "conv_anon" in page and "conv_churn" not in page
    assert '<option value="not_understood" selected>' in page
    assert "1 conversation matches these filters" in page
    assert "2 conversations in the queue" in csm_client.get(PAGE).text

    # The demo CSM owns the demo accounts (conv_churn's); the visitor's conversation is nobody's.
    mine = csm_client.get(f"{PAGE}?mine=1").text
    assert (
        "conv_churn" in mine
        and "conv_anon" not in mine
        and 'id="f-mine" name="mine" type="checkbox" value="1" checked' in mine
    )
    assert "No flagged conversation matches these filters" in csm_client.get(f"{PAGE}?reason=low_csat&mine=1").text


def test_mine_is_the_signed_in_csm_s(csm_client: TestClient, db: Session) -> None:
    account_id, _name = _flagged(db)
    other = staff.create(db, "other@example.test", "a long enough password")
    db.execute(update(Customer).where(Customer.id == account_id).values(owner_csm_id=other.id))
    db.commit()
    assert "conv_churn" not in csm_client.get(f"{PAGE}?mine=1").text


def test_a_bad_filter_is_a_clear_400(csm_client: TestClient, db: Session) -> None:
    _flagged(db)
    response = csm_client.get(f"{PAGE}?reason=%3Cscript%3E")
    assert response.status_code == 400
    assert "reason: one of" in response.text and "<script>" not in response.text and "conv_churn" not in response.text
    assert csm_client.get(f"{PAGE}?mine=yes").status_code == 400


def test_resolving_from_a_filtered_page_returns_to_it(csm_client: TestClient, db: Session) -> None:
    _flagged(db)
    response = post_form(
        csm_client, f"{PAGE}?reason=churn_moment", "/console/flags/conv_churn/resolve", {"query": "reason=churn_moment"}
    )
    assert response.status_code == 303 and response.headers["location"] == f"{PAGE}?reason=churn_moment"
    tampered = post_form(csm_client, PAGE, "/console/flags/conv_anon/resolve", {"query": "reason=nope"})
    assert tampered.headers["location"] == PAGE
