"""Console: reviewing a conversation from its transcript: tags (add, remove), private notes, the review status, and a
customer message added as a training example (kept in the database, written to the data folder's NLU file and
downloadable as `nlu-examples.yml`). Every change is audited; refused input re-shows the page with why (422)."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import CurrentStaff, SessionDep, SettingsDep, SignedInForm, client_address
from api.routes.console._pages import NO_STORE, flash, not_found, redirect
from api.routes.console.conversations import transcript_page
from keepwell import audit
from keepwell.conversations import review, training
from keepwell.staff import StaffView

router = APIRouter(prefix="/console", tags=["console"])

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
MessageId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Form fields a little longer than the service allows, so an over-long value gets the service's clear message.
TagText = Annotated[str, Form(max_length=200)]
NoteText = Annotated[str, Form(max_length=review.MAX_NOTE_CHARS * 2)]
Choice = Annotated[str, Form(max_length=100)]


def _back(conversation_id: str, anchor: str = "review") -> Response:
    return redirect(f"/console/conversations/{conversation_id}#{anchor}")


def _refused(request: Request, session: Session, conversation_id: str, error: str, note_draft: str = "") -> Response:
    session.rollback()
    return transcript_page(
        request,
        session,
        conversation_id,
        review_error=error,
        note_draft=note_draft,
        status_code=422,
    )


def _audit(
    request: Request, session: Session, who: StaffView, action: str, conversation_id: str, detail: dict[str, object]
) -> None:
    audit.record(session, who, action, "conversation", conversation_id, detail, ip=client_address(request))
    session.commit()


@router.post("/conversations/{conversation_id}/tags", include_in_schema=False, dependencies=SignedInForm)
def add_tag(
    request: Request, conversation_id: ConversationId, staff: CurrentStaff, session: SessionDep, tag: TagText = ""
) -> Response:
    try:
        added = review.add_tag(session, conversation_id, tag, staff)
    except review.ConversationMissing:
        return not_found(request, "conversation")
    except review.ReviewError as error:
        return _refused(request, session, conversation_id, str(error))
    if added is not None:
        _audit(request, session, staff, "conversation.tag_add", conversation_id, {"tag": added})
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/tags/remove", include_in_schema=False, dependencies=SignedInForm)
def remove_tag(
    request: Request, conversation_id: ConversationId, staff: CurrentStaff, session: SessionDep, tag: TagText = ""
) -> Response:
    try:
        removed = review.remove_tag(session, conversation_id, tag)
    except review.ConversationMissing:
        return not_found(request, "conversation")
    if removed:
        _audit(request, session, staff, "conversation.tag_remove", conversation_id, {"tag": tag.strip().lower()})
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/notes", include_in_schema=False, dependencies=SignedInForm)
def add_note(
    request: Request, conversation_id: ConversationId, staff: CurrentStaff, session: SessionDep, text: NoteText = ""
) -> Response:
    try:
        note = review.add_note(session, conversation_id, text, staff)
    except review.ConversationMissing:
        return not_found(request, "conversation")
    except review.ReviewError as error:
        return _refused(request, session, conversation_id, str(error), note_draft=text)
    # The note itself is private: the audit says that one was written, and how long, not what it says.
    _audit(
        request, session, staff, "conversation.note_add", conversation_id, {"note_id": note.id, "chars": len(note.text)}
    )
    return _back(conversation_id, "notes")


@router.post("/conversations/{conversation_id}/review", include_in_schema=False, dependencies=SignedInForm)
def set_review(
    request: Request,
    conversation_id: ConversationId,
    staff: CurrentStaff,
    session: SessionDep,
    review_status: Annotated[str, Form(alias="status", max_length=32)] = "",
) -> Response:
    try:
        previous = review.set_status(session, conversation_id, review_status, staff)
    except review.ConversationMissing:
        return not_found(request, "conversation")
    except review.ReviewError as error:
        return _refused(request, session, conversation_id, str(error))
    _audit(request, session, staff, "conversation.review", conversation_id, {"from": previous, "to": review_status})
    flash(request, f"Marked {review.REVIEW_LABELS[review_status].lower()}.")
    return _back(conversation_id)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/example",
    include_in_schema=False,
    dependencies=SignedInForm,
)
def add_example(
    request: Request,
    conversation_id: ConversationId,
    message_id: MessageId,
    staff: CurrentStaff,
    session: SessionDep,
    settings: SettingsDep,
    intent: Choice = "",
) -> Response:
    if not review.exists(session, conversation_id):
        return not_found(request, "conversation")
    try:
        example = training.add(session, message_id, intent, staff.username, conversation_id=conversation_id)
    except training.ExampleError as error:
        return _refused(request, session, conversation_id, str(error))
    audit.record(
        session,
        staff,
        "training_example.add",
        "conversation",
        conversation_id,
        {"message_id": message_id, "intent": example.intent, "predicted": example.predicted_intent},
        ip=client_address(request),
    )
    session.commit()
    # The next `make train` reads this file.
    if not training.rewrite_nlu_file(session, settings.data_dir):
        flash(request, f"Added as a training example of {example.intent}, but the NLU file could not be written: "
                       "download nlu-examples.yml instead.")  # fmt: skip
        return _back(conversation_id, f"message-{message_id}")
    flash(request, f"Added as a training example of {example.intent}; the next training uses it.")
    return _back(conversation_id, f"message-{message_id}")


@router.get("/training/nlu-examples.yml", include_in_schema=False)
def nlu_examples(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    """Every console training example as Rasa NLU YAML, as a download."""
    body = training.nlu_yaml(session)
    audit.record(session, staff, "training_example.export", ip=client_address(request))
    session.commit()
    headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="nlu-examples.yml"'}
    return Response(body, media_type="application/x-yaml; charset=utf-8", headers=headers)
