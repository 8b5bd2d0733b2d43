"""Whole conversations through the gateway, with the real Rasa server, action server and knowledge base."""

import re

import httpx
import pytest
from sqlalchemy import select

from keepwell import accounts, health, health_history, identity, offer_catalogue
from keepwell.bootstrap import DEMO_CSM
from keepwell.db import get_engine, session_scope
from keepwell.models import ConversationFlag, Feedback
from tests.e2e.conftest import IDENTITY_SECRET, RunningSystem

pytestmark = pytest.mark.e2e


def _texts(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return "\n".join(m["text"] for m in response.json()["messages"])


def _account_by_band(system: RunningSystem, band: str) -> accounts.Account:
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        for account in accounts.list_accounts(session):
            if health.score(account).band == band:
                return account
    raise AssertionError(f"the demo data has no {band} account")


def _signed(account_id: str) -> dict[str, str]:
    return {"customer_id": account_id, "signature": identity.sign(account_id, IDENTITY_SECRET)}


def test_health_reports_every_part_ready(system: RunningSystem) -> None:
    body = httpx.get(f"{system.base_url}/api/health").json()
    assert body["status"] == "ok"
    assert {name for name, part in body["components"].items() if part["ready"]} == {
        "rasa", "action_server", "knowledge_base", "database",
    }  # fmt: skip


def test_how_to_question_is_answered_from_the_manual_with_its_source(system: RunningSystem) -> None:
    response = system.chat("How do I invite my teammates to Orbitly?")
    messages = response.json()["messages"]
    assert response.status_code == 200
    assert len(messages) == 1, "one answer arrives as one message, with its source"
    sources = messages[0]["sources"]
    assert sources, messages
    assert sources[0]["url"].startswith("/help/getting-started/")
    assert "invite" in messages[0]["text"].lower()
    page, _, anchor = sources[0]["url"].partition("#")
    article = httpx.get(f"{system.base_url}{page}")
    assert article.status_code == 200
    title, _, section = sources[0]["title"].partition(" — ")
    assert title in article.text
    if anchor:  # the answer quotes one section: the link lands on its heading
        assert f'id="{anchor}"' in article.text and section in article.text


def test_signed_customer_gets_their_own_health_score(system: RunningSystem) -> None:
    account = _account_by_band(system, "yellow")
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        expected = health_history.assess(session, account)  # the snapshot the demo wrote, with its trend
    text = _texts(system.chat("how is my account doing?", **_signed(account.id)))
    assert f"{expected.score}/100 ({expected.band})" in text
    assert account.name in text
    assert expected.drivers[0].text in text


def test_account_questions_reveal_nothing_without_a_verified_identity(system: RunningSystem) -> None:
    account = _account_by_band(system, "green")
    anonymous = _texts(system.chat("how is my account doing?"))
    assert "signed in" in anonymous
    assert account.name not in anonymous
    assert not re.search(r"\d+/100", anonymous)

    forged = system.chat("how is my account doing?", customer_id=account.id, signature="0" * 64)
    assert forged.status_code == 401
    assert "signature" in forged.json()["detail"]


def test_recommendations_fit_the_segment_and_spare_red_accounts(system: RunningSystem) -> None:
    green = _account_by_band(system, "green")
    reply = system.chat("what would you recommend for us?", **_signed(green.id)).json()["messages"]
    assert any(m["sources"] for m in reply), reply

    red = _account_by_band(system, "red")
    red_reply = system.chat("any recommendations for us?", **_signed(red.id)).json()["messages"]
    kinds = {offer.title: offer.kind for offer in offer_catalogue.load_catalogue()}
    suggested = [kinds[s["title"]] for m in red_reply for s in m["sources"]]
    assert suggested, red_reply
    assert set(suggested) == {"enablement"}, "a red account is helped, never pitched to"


def test_handoff_silences_the_bot_until_a_csm_releases_it(system: RunningSystem) -> None:
    account = _account_by_band(system, "yellow")
    first = system.chat("I'd like to talk to a person please", **_signed(account.id))
    conversation_id = first.json()["conversation_id"]
    assert "customer success manager" in _texts(first)

    held = _texts(system.chat("are you there?", conversation_id=conversation_id, **_signed(account.id)))
    assert "assistant stays quiet" in held

    with httpx.Client(base_url=system.base_url, follow_redirects=True) as console:
        login_page = console.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login_page.text)
        assert csrf, "the login form carries a CSRF token"
        logged_in = console.post(
            "/console/login",
            data={"username": DEMO_CSM[0], "password": DEMO_CSM[1], "csrf": csrf[1]},
        )
        assert logged_in.status_code == 200
        transcript = console.get(f"/console/conversations/{conversation_id}")
        assert "are you there?" in transcript.text
        assert "request_human" in transcript.text
        release = re.search(r'action="(/console/handoffs/\d+/release)"', transcript.text)
        assert release, "an open handoff offers a release button"
        csrf = re.search(r'name="csrf" value="([^"]+)"', transcript.text)
        assert csrf
        assert console.post(release[1], data={"csrf": csrf[1]}).status_code == 200

    after = _texts(system.chat("hello again", conversation_id=conversation_id, **_signed(account.id)))
    assert after and "assistant stays quiet" not in after


def test_a_conversation_cannot_be_continued_under_another_identity(system: RunningSystem) -> None:
    owner, other = _account_by_band(system, "green"), _account_by_band(system, "red")
    conversation_id = system.chat("hi", **_signed(owner.id)).json()["conversation_id"]
    assert system.chat("hi", conversation_id=conversation_id, **_signed(other.id)).status_code == 403
    assert system.chat("hi", conversation_id=conversation_id).status_code == 403
    assert system.chat("hi", conversation_id=conversation_id, **_signed(owner.id)).status_code == 200


def _flags(system: RunningSystem, conversation_id: str) -> list[str]:
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        query = select(ConversationFlag.reason).where(ConversationFlag.conversation_id == conversation_id)
        return list(session.scalars(query))


def test_a_repeated_question_is_flagged_and_still_not_working_is_negative_feedback_on_the_answer(
    system: RunningSystem,
) -> None:
    first = system.chat("how do I export my projects to CSV")
    assert first.status_code == 200, first.text
    conversation_id = first.json()["conversation_id"]
    again = system.chat("how can I export my projects to CSV?", conversation_id=conversation_id)
    assert again.status_code == 200, again.text
    assert _flags(system, conversation_id) == ["repeated_question"]

    still = system.chat("still not working", conversation_id=conversation_id)
    assert "/request_human" in str(still.json()["messages"])
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        [said] = session.execute(
            select(Feedback.text, Feedback.polarity, Feedback.article_id).where(
                Feedback.conversation_id == conversation_id
            )
        ).all()
    assert (said.text, said.polarity) == ("still not working", "negative") and said.article_id


def test_a_customer_who_wants_to_cancel_gets_the_article_their_csm_hears_and_a_person_is_offered(
    system: RunningSystem,
) -> None:
    account = _account_by_band(system, "green")
    response = system.chat("we want to cancel our subscription", **_signed(account.id))
    assert response.status_code == 200, response.text
    answer, offer = response.json()["messages"]
    assert answer["sources"] and "/help/billing/cancel-subscription" in answer["sources"][0]["url"]
    assert "/request_human" in [button["payload"] for button in offer["buttons"]]
    conversation_id = response.json()["conversation_id"]
    assert _flags(system, conversation_id) == ["churn_moment"]

    again = system.chat("or could we get a refund instead", conversation_id=conversation_id, **_signed(account.id))
    assert "/help/billing/refunds" in again.json()["messages"][0]["sources"][0]["url"]
    assert _flags(system, conversation_id) == ["churn_moment"], "one alert per conversation"
    accepted = _texts(system.chat("yes please", conversation_id=conversation_id, **_signed(account.id)))
    assert "customer success manager" in accepted


def test_a_complaint_is_troubleshooting_not_feedback(system: RunningSystem) -> None:
    response = system.chat("the mobile app keeps logging me out")
    assert response.status_code == 200, response.text
    answer, offer = response.json()["messages"]
    assert answer["sources"] and "/help/troubleshooting/" in answer["sources"][0]["url"]
    assert "/request_human" in [button["payload"] for button in offer["buttons"]]
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        recorded = session.scalars(
            select(Feedback.text).where(Feedback.conversation_id == response.json()["conversation_id"])
        )
        assert list(recorded) == []
