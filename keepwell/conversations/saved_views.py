"""Saved inbox views: a CSM names the inbox's current filters and opens them again later. Each CSM sees, opens and
deletes only their own views; another CSM's view is "not found", never "forbidden" (its existence is not told)."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keepwell.conversations.filters import InboxFilter, InvalidFilter, parse
from keepwell.models import SavedView, as_utc

MAX_NAME_CHARS = 80
MAX_VIEWS = 50  # per CSM


class ViewError(ValueError):
    """A view that cannot be saved; the message says why."""


class ViewNotFound(LookupError):
    pass


@dataclass(frozen=True)
class SavedViewInfo:
    id: int
    name: str
    query: str
    created_at: datetime

    @property
    def filters(self) -> InboxFilter:
        return parse(parse_qsl(self.query))


def save(session: Session, owner_id: int, name: str, query: str) -> SavedViewInfo:
    """Save (or, under the same name, replace) a view of this CSM; the query is checked and stored canonically.

    Raises:
        ViewError: an empty or over-long name, a bad filter, no filter at all, or too many views.
    """
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME_CHARS:
        raise ViewError(f"Name the view (1 to {MAX_NAME_CHARS} characters).")
    try:
        canonical = parse(parse_qsl(query)).query_string()
    except InvalidFilter as error:
        raise ViewError(f"The filters cannot be saved: {error}") from None
    if not canonical:
        raise ViewError("Choose at least one filter before saving a view.")
    existing = session.scalars(select(SavedView).where(SavedView.owner_id == owner_id, SavedView.name == clean)).first()
    if existing is None:
        count = len(list(session.scalars(select(SavedView.id).where(SavedView.owner_id == owner_id))))
        if count >= MAX_VIEWS:
            raise ViewError(f"You have {MAX_VIEWS} saved views; delete one first.")
        existing = SavedView(owner_id=owner_id, name=clean, query=canonical)
        session.add(existing)
    else:
        existing.query = canonical
    session.flush()
    return _info(existing)


def list_mine(session: Session, owner_id: int) -> list[SavedViewInfo]:
    query = select(SavedView).where(SavedView.owner_id == owner_id).order_by(SavedView.name)
    return [_info(view) for view in session.scalars(query)]


def get_mine(session: Session, owner_id: int, view_id: int) -> SavedViewInfo:
    """Raises ViewNotFound for an unknown view and for another CSM's."""
    view = session.get(SavedView, view_id)
    if view is None or view.owner_id != owner_id:
        raise ViewNotFound(view_id)
    return _info(view)


def delete_mine(session: Session, owner_id: int, view_id: int) -> SavedViewInfo:
    """Delete one of this CSM's views and return what it was. Raises ViewNotFound as `get_mine` does."""
    view = get_mine(session, owner_id, view_id)
    session.execute(delete(SavedView).where(SavedView.id == view_id, SavedView.owner_id == owner_id))
    return view


def _info(view: SavedView) -> SavedViewInfo:
    return SavedViewInfo(view.id, view.name, view.query, as_utc(view.created_at))
