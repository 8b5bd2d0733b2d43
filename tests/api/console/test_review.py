"""api/routes/console/review.py and the transcript page: tags, notes, review status and training examples from the
console, each audited; opening a transcript is audited; refused input is a 422 with the reason and writes nothing."""

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.settings import Settings
from keepwell import accounts, offer_catalogue
from keepwell import conversations as log
from keepwell.conversations import review, training
from keepwell.models import OfferEvent
from keepwell.staff import StaffView
from tests.api.console.conftest import post_form

Entries = Callable[..., list[Any]]


def _conversation(db: Session, customer_id: str | None = None) -> tuple[str, int]:
    conversation = log.start_conversation(db, customer_id, "website")
    db.commit()
    accepted = log.accept(db, conversation, "the purple thingy wont sync", None)
    turn = log.TurnInfo(
        accepted.message.id, "nlu_fallback", 0.31, [], ["action_default_fallback"], {"topic_article": "x"}
    )
    log.answer(db, accepted.message.id, [log.Reply("Sorry, I didn't get that.")], turn)
    db.commit()
    return conversation.id, accepted.message.id


def test_opening_a_transcript_is_audited_and_shows_the_review_the_slots_and_the_owner(
    csm_client: TestClient, db: Session, entries: Entries, demo_csm: StaffView
) -> None:
    account = accounts.list_accounts(db)[0]
    conversation_id, _ = _conversation(db, account.id)
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert 'id="review-status">New</span>' in page
    assert "Slots set: <code>topic_article=x</code>" in page
    assert "Misunderstood? Add as training example" in page
    assert f'id="account-owner">{demo_csm.label} (you)' in page
    [viewed] = entries(action="conversation.view")
    assert (viewed.actor, viewed.target_type, viewed.target_id) == (demo_csm.username, "conversation", conversation_id)
    csm_client.get(f"/console/conversations/{conversation_id}/messages.json")  # the live poll is not a view
    assert len(entries(action="conversation.view")) == 1
    assert csm_client.get("/console/conversations/nope").status_code == 404
    assert len(entries(action="conversation.view")) == 1


def test_the_offers_shown_in_the_conversation_are_listed_by_title(csm_client: TestClient, db: Session) -> None:
    account = accounts.list_accounts(db)[0]
    conversation_id, _ = _conversation(db, account.id)
    offer = offer_catalogue.load_catalogue()[0]
    db.add(OfferEvent(account_id=account.id, offer_id=offer.id, event="shown", conversation_id=conversation_id))
    db.add(
        OfferEvent(account_id=account.id, offer_id="retired-offer", event="clicked", conversation_id=conversation_id)
    )
    db.commit()
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert f'{html.escape(offer.title)} <span class="badge badge--none">shown</span>' in page
    assert 'retired-offer <span class="badge badge--none">clicked</span>' in page


def test_tags_notes_and_review_status_are_changed_and_audited(
    csm_client: TestClient, db: Session, entries: Entries
) -> None:
    conversation_id, _ = _conversation(db)
    page = f"/console/conversations/{conversation_id}"
    assert post_form(csm_client, page, f"{page}/tags", {"tag": " Sync Issue "}).status_code == 303
    assert post_form(csm_client, page, f"{page}/tags", {"tag": "sync issue"}).status_code == 303  # had it: no entry
    assert post_form(csm_client, page, f"{page}/notes", {"text": "<b>Called</b> them"}).status_code == 303
    assert post_form(csm_client, page, f"{page}/review", {"status": "reviewed"}).status_code == 303
    shown = csm_client.get(page).text
    assert '<li class="tag">sync issue' in shown
    assert "&lt;b&gt;Called&lt;/b&gt; them" in shown
    assert 'id="review-status">Reviewed</span>' in shown
    assert post_form(csm_client, page, f"{page}/tags/remove", {"tag": "sync issue"}).status_code == 303
    db.expire_all()
    state = review.state(db, conversation_id)
    assert (state.tags, state.status, [n.text for n in state.notes]) == ([], "reviewed", ["<b>Called</b> them"])
    actions = [e.action for e in entries(action="conversation.") if e.action != "conversation.view"]
    assert actions == [
        "conversation.tag_remove",
        "conversation.review",
        "conversation.note_add",
        "conversation.tag_add",
    ]
    note = entries(action="conversation.note_add")[0]
    assert set(note.detail) == {"note_id", "chars"}  # never the private text itself
    assert entries(action="conversation.review")[0].detail == {"from": "new", "to": "reviewed"}


def test_refused_input_is_a_422_with_the_reason_and_writes_nothing(
    csm_client: TestClient, db: Session, entries: Entries
) -> None:
    conversation_id, message_id = _conversation(db)
    page = f"/console/conversations/{conversation_id}"
    for action, data, reason in (
        ("tags", {"tag": "<script>"}, "A tag is 1 to 40 letters"),
        ("notes", {"text": "   "}, "Write something in the note first."),
        ("review", {"status": "done"}, "The review status is one of new, needs_review, reviewed."),
        (f"messages/{message_id}/example", {"intent": "made_up"}, "Unknown intent"),
    ):
        response = post_form(csm_client, page, f"{page}/{action}", data)
        assert response.status_code == 422, action
        assert reason in response.text, action
    long_note = post_form(csm_client, page, f"{page}/notes", {"text": "n" * 4001})
    assert long_note.status_code == 422 and "n" * 4001 in long_note.text  # the draft comes back
    db.expire_all()
    state = review.state(db, conversation_id)
    assert (state.tags, state.notes, state.status) == ([], [], "new")
    assert [e.action for e in entries(action="conversation.") if e.action != "conversation.view"] == []
    assert post_form(csm_client, page, "/console/conversations/nope/tags", {"tag": "x"}).status_code == 404


def test_forms_without_the_csrf_token_are_refused(csm_client: TestClient, db: Session) -> None:
    conversation_id, message_id = _conversation(db)
    base = f"/console/conversations/{conversation_id}"
    for path in (f"{base}/tags", f"{base}/notes", f"{base}/review", f"{base}/messages/{message_id}/example"):
        response = csm_client.post(path, data={"tag": "x", "text": "x", "status": "reviewed", "intent": "greet"})
        assert response.status_code == 403, path
    db.expire_all()
    assert review.state(db, conversation_id).status == "new"


def test_a_message_added_as_a_training_example_is_stored_written_and_downloadable(
    csm_client: TestClient, db: Session, settings: Settings, entries: Entries
) -> None:
    conversation_id, message_id = _conversation(db)
    page = f"/console/conversations/{conversation_id}"
    added = post_form(csm_client, page, f"{page}/messages/{message_id}/example", {"intent": "report_problem"})
    assert added.status_code == 303 and added.headers["location"] == f"{page}#message-{message_id}"
    shown = csm_client.get(page).text
    assert "Training example of <code>report_problem</code>" in shown
    assert "Added as a training example of report_problem" in shown
    written = Path(settings.data_dir) / "bot" / "nlu" / "console_examples.yml"
    assert yaml.safe_load(written.read_text()) == {
        "version": "3.1", "nlu": [{"intent": "report_problem", "examples": "- the purple thingy wont sync\n"}],
    }  # fmt: skip
    download = csm_client.get("/console/training/nlu-examples.yml")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="nlu-examples.yml"'
    assert download.text == written.read_text()
    [example] = entries(action="training_example.add")
    assert example.detail == {"message_id": message_id, "intent": "report_problem", "predicted": "nlu_fallback"}
    assert entries(action="training_example.export")
    assert training.for_conversation(db, conversation_id)[message_id].created_by == "csm@demo.test"


def test_the_anonymous_are_refused_every_review_action(client: TestClient, db: Session) -> None:
    conversation_id, message_id = _conversation(db)
    base = f"/console/conversations/{conversation_id}"
    for path in (f"{base}/tags", f"{base}/notes", f"{base}/review", f"{base}/messages/{message_id}/example"):
        assert client.post(path, data={"csrf": "x"}).status_code == 401, path
    assert client.get("/console/training/nlu-examples.yml", follow_redirects=False).status_code == 303


def test_an_unwritable_data_folder_keeps_the_example_and_says_so(
    csm_client: TestClient, db: Session, settings: Settings
) -> None:
    conversation_id, message_id = _conversation(db)
    (Path(settings.data_dir) / "bot").write_text("a file where the folder should be")
    page = f"/console/conversations/{conversation_id}"
    added = post_form(csm_client, page, f"{page}/messages/{message_id}/example", {"intent": "report_problem"})
    assert added.status_code == 303
    assert "the NLU file could not be written" in csm_client.get(page).text
    assert training.for_conversation(db, conversation_id)[message_id].intent == "report_problem"
