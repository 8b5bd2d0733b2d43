"""Reviewing a conversation in the console: free-form tags, CSMs' private notes and the review status (new, needs
review, reviewed). The callers audit and commit; every function checks its input first and writes nothing when it
refuses."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from keepwell.conversations.filters import normalise_tag
from keepwell.models import Conversation, ConversationNote, ConversationTag, OfferEvent, as_utc, utcnow
from keepwell.models.conversations import REVIEW_STATUSES
from keepwell.staff import StaffView

REVIEW_LABELS = {"new": "New", "needs_review": "Needs review", "reviewed": "Reviewed"}
MAX_NOTE_CHARS = 4000
MAX_TAGS = 20  # per conversation
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")


class ReviewError(ValueError):
    """Input that cannot be stored; the message says why, in words for the CSM."""


class ConversationMissing(LookupError):
    pass


@dataclass(frozen=True)
class NoteView:
    id: int
    author_name: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class OfferShown:
    offer_id: str
    event: str  # shown | clicked | accepted
    at: datetime


@dataclass(frozen=True)
class ReviewState:
    status: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    tags: list[str]
    notes: list[NoteView]
    offers: list[OfferShown]

    @property
    def status_label(self) -> str:
        return REVIEW_LABELS.get(self.status, self.status)


def state(session: Session, conversation_id: str) -> ReviewState:
    """The conversation's review status, tags (alphabetical), notes (oldest first) and the offers shown in it."""
    conversation = _conversation(session, conversation_id)
    tags = session.scalars(
        select(ConversationTag.tag)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)
    )
    notes = session.scalars(
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.created_at, ConversationNote.id)
    )
    offers = session.execute(
        select(OfferEvent.offer_id, OfferEvent.event, OfferEvent.at)
        .where(OfferEvent.conversation_id == conversation_id)
        .order_by(OfferEvent.at, OfferEvent.id)
    )
    return ReviewState(
        status=conversation.review_status,
        reviewed_by=conversation.reviewed_by,
        reviewed_at=as_utc(conversation.reviewed_at) if conversation.reviewed_at else None,
        tags=list(tags),
        notes=[NoteView(n.id, n.author_name, n.text, as_utc(n.created_at)) for n in notes],
        offers=[OfferShown(offer_id, event, as_utc(at)) for offer_id, event, at in offers],
    )


def add_tag(session: Session, conversation_id: str, tag: str, by: StaffView) -> str | None:
    """Tag the conversation; returns the stored (normalised) tag, or None when it had the tag already.

    Raises:
        ReviewError: an empty or malformed tag, or too many tags on the conversation.
        ConversationMissing: no such conversation.
    """
    clean = normalise_tag(tag)
    if not _TAG.match(clean):
        raise ReviewError("A tag is 1 to 40 letters, digits, spaces, _ or -, starting with a letter or digit.")
    _conversation(session, conversation_id)
    present = list(
        session.scalars(select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id))
    )
    if clean in present:
        return None
    if len(present) >= MAX_TAGS:
        raise ReviewError(f"A conversation has at most {MAX_TAGS} tags; remove one first.")
    session.add(ConversationTag(conversation_id=conversation_id, tag=clean, created_by=by.username))
    session.flush()
    return clean


def remove_tag(session: Session, conversation_id: str, tag: str) -> bool:
    """Remove a tag; False when the conversation did not have it."""
    _conversation(session, conversation_id)
    result = session.execute(
        delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id, ConversationTag.tag == normalise_tag(tag)
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def add_note(session: Session, conversation_id: str, text: str, by: StaffView) -> NoteView:
    """A private note by this CSM, timestamped now.

    Raises:
        ReviewError: an empty or over-long note.
        ConversationMissing: no such conversation.
    """
    clean = text.strip()
    if not clean:
        raise ReviewError("Write something in the note first.")
    if len(clean) > MAX_NOTE_CHARS:
        raise ReviewError(f"A note is at most {MAX_NOTE_CHARS:,} characters (this one has {len(clean):,}).")
    _conversation(session, conversation_id)
    note = ConversationNote(conversation_id=conversation_id, author_id=by.id, author_name=by.label, text=clean)
    session.add(note)
    session.flush()
    return NoteView(note.id, note.author_name, note.text, as_utc(note.created_at))


def set_status(session: Session, conversation_id: str, status: str, by: StaffView) -> str:
    """Set the review status; returns the previous one.

    Raises:
        ReviewError: not one of new, needs_review, reviewed.
        ConversationMissing: no such conversation.
    """
    if status not in REVIEW_STATUSES:
        raise ReviewError(f"The review status is one of {', '.join(REVIEW_STATUSES)}.")
    previous = _conversation(session, conversation_id).review_status
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(review_status=status, reviewed_by=by.username, reviewed_at=utcnow())
    )
    return previous


def exists(session: Session, conversation_id: str) -> bool:
    return session.get(Conversation, conversation_id) is not None


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise ConversationMissing(conversation_id)
    return conversation
