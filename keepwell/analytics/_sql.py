"""SQL pieces that differ between SQLite and PostgreSQL: the UTC day of a timestamp, and a message's cited sources
as rows (a JSON array unnested in the database, so the counting stays in SQL on both)."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, FromClause, case, func, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from keepwell.models import Message


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The calendar day (UTC) of a stored time. SQLite keeps times as UTC text, so date() reads the day off it;
    PostgreSQL keeps timestamptz, whose day depends on the session's zone unless it is moved to UTC first."""
    if dialect(session) == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def as_date(value: Any) -> date:
    """A day as `utc_day` returns it: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def cited_sources(session: Session) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
    """A table-valued FROM item with one row per source cited by a message (to select with `Message`), and its
    url and title columns. A message without sources holds SQL NULL, JSON null or []: all give no rows."""
    if dialect(session) == "postgresql":
        empty = literal("[]").cast(Message.sources.type)
        array = case((func.json_typeof(Message.sources) == "array", Message.sources), else_=empty)
        elements = func.json_array_elements(array).table_valued("value", joins_implicitly=True)
        value: ColumnClause[Any] = elements.c.value
        return elements, value.op("->>")("url"), value.op("->>")("title")
    array = case((func.json_type(Message.sources) == "array", Message.sources), else_=literal("[]"))
    elements = func.json_each(array).table_valued("value", joins_implicitly=True)
    value = elements.c.value
    return elements, func.json_extract(value, "$.url"), func.json_extract(value, "$.title")
