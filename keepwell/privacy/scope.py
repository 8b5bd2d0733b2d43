"""Every row of the app database that belongs to some conversations or to one customer, found by walking the
tables' metadata rather than a hand-kept list, so a table added later is covered when it follows the conventions:

- a column named `conversation_id` ties a row to a conversation (messages, flags, handoffs, feedback, ...);
- a column named `customer_id` or `account_id` ties it to a customer account (contacts, usage, health, signals, ...);
- a foreign key to a row that goes makes the row go too (a flag on an erased message, a survey answer of an erased
  contact: what a person said goes with the person), whatever the key's ON DELETE says.

A few columns are detached instead (set to NULL): the row is not about the conversation, it only says where it
happened. Rows are deleted children first, so foreign keys hold throughout on every database.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, delete, or_, select, update
from sqlalchemy.orm import Session

from keepwell.batches import chunked
from keepwell.models import Base

CONVERSATION_COLUMN = "conversation_id"
CUSTOMER_COLUMNS = ("customer_id", "account_id")
# (table, column): set to NULL rather than delete the row. The offer funnel counts showings; which conversation one
# happened in is not worth keeping once the conversation is gone (keepwell/models/offers.py).
DETACHED = frozenset({("offer_events", "conversation_id")})
# Retention detaches these too. A training example is data a CSM curated for the model, not a record of the
# conversation, so it outlives the conversation's retention period; erasing the customer deletes it (their words).
RETENTION_DETACHED = DETACHED | {("training_examples", "conversation_id")}
# Never deleted by the walk: the audit log is scrubbed of the customer instead (keepwell/privacy/erasure.py).
KEPT = frozenset({"audit_events"})


@dataclass
class Scope:
    """What to delete: these conversations, and (when set) the customer account and these contacts."""

    conversation_ids: Collection[str] = ()
    account_id: str | None = None
    contact_ids: Collection[int] = ()
    # (table, conversation column) pairs set to NULL instead of deleted.
    detached: frozenset[tuple[str, str]] = DETACHED
    # Primary keys found per table, filled by `find`.
    keys: dict[str, set[Any]] = field(default_factory=dict)


def find(session: Session, scope: Scope) -> Scope:
    """Fill `scope.keys` with the primary keys of every row that goes, parents before children."""
    scope.keys = {}
    for table in Base.metadata.sorted_tables:
        if table.name in KEPT:
            continue
        key = _primary_key(table)
        conditions = _conditions(table, scope)
        found: set[Any] = set()
        for condition in conditions:
            found.update(session.scalars(select(key).where(condition)))
        if found:
            scope.keys[table.name] = found
    return scope


def delete_rows(session: Session, scope: Scope) -> dict[str, int]:
    """Detach, then delete what `find` found, children first; returns the rows deleted per table."""
    counts: dict[str, int] = {}
    for table_name, column_name in sorted(scope.detached):
        table = Base.metadata.tables.get(table_name)
        if table is None:
            continue
        column = table.c[column_name]
        for chunk in chunked(sorted(scope.conversation_ids)):
            session.execute(update(table).where(column.in_(chunk)).values({column_name: None}))
    for table in reversed(Base.metadata.sorted_tables):
        keys = scope.keys.get(table.name)
        if not keys:
            continue
        key = _primary_key(table)
        self_refs = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
        for chunk in chunked(sorted(keys)):
            for column in self_refs:  # e.g. a reply pointing at a message that goes in another chunk
                session.execute(update(table).where(column.in_(chunk)).values({column.name: None}))
        for chunk in chunked(sorted(keys)):
            session.execute(delete(table).where(key.in_(chunk)))
        counts[table.name] = len(keys)
    return counts


def _conditions(table: Table, scope: Scope) -> list[ColumnElement[bool]]:
    """The ways a row of `table` can belong to the scope, each with at most one chunk of keys."""
    conditions: list[ColumnElement[bool]] = []
    columns = table.c
    if table.name == "conversations" and scope.conversation_ids:
        conditions += _in(_primary_key(table), scope.conversation_ids)
    detached = (table.name, CONVERSATION_COLUMN) in scope.detached
    if CONVERSATION_COLUMN in columns and scope.conversation_ids and not detached:
        conditions += _in(columns[CONVERSATION_COLUMN], scope.conversation_ids)
    if scope.account_id is not None:
        matches = [columns[name] == scope.account_id for name in CUSTOMER_COLUMNS if name in columns]
        if table.name == "customers":
            matches.append(_primary_key(table) == scope.account_id)
        conditions += matches
    if table.name == "contacts" and scope.contact_ids:
        conditions += _in(_primary_key(table), scope.contact_ids)
    for foreign_key in table.foreign_keys:
        parent = foreign_key.column.table
        if parent is table or parent.name not in scope.keys:
            continue
        conditions += _in(foreign_key.parent, scope.keys[parent.name])
    return [or_(*part) for part in _batches(conditions)]


def _in(column: Column[Any], values: Collection[Any]) -> list[ColumnElement[bool]]:
    return [column.in_(chunk) for chunk in chunked(sorted(values))]


def _batches(conditions: list[ColumnElement[bool]], size: int = 4) -> list[list[ColumnElement[bool]]]:
    # Each condition carries at most one chunk of parameters; a few per statement stay under every limit.
    return [conditions[start : start + size] for start in range(0, len(conditions), size)]


def _primary_key(table: Table) -> Column[Any]:
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise RuntimeError(f"{table.name}: privacy erasure needs a single-column primary key")
    return keys[0]
