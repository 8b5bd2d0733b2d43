"""Writing validated rows: one bulk `INSERT … ON CONFLICT (natural key) DO UPDATE` per batch, in the database's own
dialect (SQLite or PostgreSQL), so a re-import updates rows in place and 100,000 rows take seconds, not minutes."""

from collections.abc import Callable, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from keepwell.batches import batched
from keepwell.importing.rows import (
    AccountRow,
    Row,
    SurveyRow,
    TicketRow,
    UsageRow,
    kind_named,
)
from keepwell.importing.terms import sync_current_terms
from keepwell.models import (
    Contact,
    CSMUser,
    Customer,
    OnboardingStep,
    Subscription,
    SupportTicket,
    SurveyAnswer,
    UsageSnapshot,
)

_LOOKUP_BATCH = 500
# Columns a re-import leaves alone when its row gives no value: an account's owner may have been assigned in the
# console since the last import, and an export without owners must not unassign them.
_KEPT_WHEN_ABSENT = {"customers": ("owner_csm_id",)}


def write(session: Session, kind: str, rows: Sequence[Row], *, today: date | None = None) -> int:
    """Insert or update `rows` (validated rows of `kind`) by their natural key; returns how many were written.

    Accounts and subscriptions also bring the accounts' current terms in step (`terms.sync_current_terms`, as of
    `today`, default the real today). Nothing is committed: the caller owns the transaction.
    """
    if not rows:
        return 0
    spec = kind_named(kind)
    table, conflict, to_record = _TARGETS[spec.name]
    lookups = _Lookups(session, rows)
    records = [to_record(row, lookups) for row in rows]
    _upsert(session, table, conflict, records)
    if spec.name in ("accounts", "subscriptions"):
        accounts = {record["id"] if spec.name == "accounts" else record["account_id"] for record in records}
        sync_current_terms(session, accounts, today or date.today())
    return len(records)


def _upsert(session: Session, table: Table, conflict: tuple[str, ...], records: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        statement: Any = sqlite.insert(table)
    elif dialect.name == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"importing into {dialect.name} is not supported (SQLite and PostgreSQL are)")
    names = tuple(records[0])
    updated = {name: statement.excluded[name] for name in names if name not in conflict}
    for name in _KEPT_WHEN_ABSENT.get(table.name, ()):
        updated[name] = func.coalesce(statement.excluded[name], table.columns[name])
    statement = statement.on_conflict_do_update(index_elements=list(conflict), set_=updated)
    if dialect.name == "sqlite" and _no_python_defaults_missing(table, names):
        _executemany_on_driver(session, statement, table, names, records)
        return
    # A list of parameter sets runs as one executemany: no ORM objects (psycopg pipelines it on PostgreSQL).
    session.execute(statement, records)


def _no_python_defaults_missing(table: Table, names: tuple[str, ...]) -> bool:
    """Whether the records give every column that has a Python-side default (which only SQLAlchemy would fill)."""
    return all(column.name in names or column.default is None for column in table.columns)


def _executemany_on_driver(
    session: Session, statement: Any, table: Table, names: tuple[str, ...], records: list[dict[str, Any]]
) -> None:
    """The statement compiled once and handed to sqlite3's executemany with tuples of values, each passed through its
    column type's own bind processor (dates, JSON ...): the same SQL and values as `session.execute`, without its
    per-row parameter bookkeeping, which is a third of a large import's time."""
    dialect = session.get_bind().dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    order = compiled.positiontup
    values_of = itemgetter(*order)
    # Only dates, times and JSON need converting for sqlite3; the other values pass as they are.
    converted = [
        (index, processor)
        for index, name in enumerate(order)
        if (processor := table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    rows = []
    for record in records:
        values = list(values_of(record)) if len(order) > 1 else [record[order[0]]]
        for index, processor in converted:
            values[index] = processor(values[index])
        rows.append(tuple(values))
    session.connection().exec_driver_sql(str(compiled), rows)


class _Lookups:
    """The database ids behind the names a batch of rows uses (contact external ids, CSM usernames), each read once."""

    def __init__(self, session: Session, rows: Sequence[Row]) -> None:
        self._session = session
        self._csms: dict[str, int] | None = None
        self._contacts: dict[str, int] = {}
        # Through __dict__: pydantic's getattr of a field a model lacks is slow, and this looks at every row.
        wanted = sorted({name for row in rows if (name := row.__dict__.get("contact_external_id")) is not None})
        for batch in batched(wanted, _LOOKUP_BATCH):
            query = select(Contact.external_id, Contact.id).where(Contact.external_id.in_(batch))
            self._contacts.update(dict(session.execute(query).all()))

    def contact(self, external_id: str | None) -> int | None:
        return None if external_id is None else self._contacts.get(external_id)

    def csm(self, username: str | None) -> int | None:
        if username is None:
            return None
        if self._csms is None:
            self._csms = dict(self._session.execute(select(CSMUser.username, CSMUser.id)).all())
        return self._csms.get(username)


def _fields(row: Row, *without: str) -> dict[str, Any]:
    """The row's fields as a dict: its `__dict__`, which is what `model_dump` would return for these flat models at
    a fraction of the cost (this runs for every row written)."""
    record = dict(row.__dict__)
    for name in without:
        del record[name]
    return record


def _account(row: AccountRow, lookups: _Lookups) -> dict[str, Any]:
    record = _fields(row, "owner")
    record["owner_csm_id"] = lookups.csm(row.owner)
    return record


def _as_is(row: Row, _: _Lookups) -> dict[str, Any]:
    return _fields(row)


def _usage(row: UsageRow, _: _Lookups) -> dict[str, Any]:
    record = _fields(row, "account_id")
    record["customer_id"] = row.account_id
    return record


def _with_contact(row: TicketRow | SurveyRow, lookups: _Lookups) -> dict[str, Any]:
    record = _fields(row, "contact_external_id")
    record["contact_id"] = lookups.contact(row.contact_external_id)
    return record


_Target = tuple[Table, tuple[str, ...], Callable[[Any, _Lookups], dict[str, Any]]]
_TARGETS: dict[str, _Target] = {
    "accounts": (Customer.__table__, ("id",), _account),  # type: ignore[dict-item]
    "contacts": (Contact.__table__, ("external_id",), _as_is),  # type: ignore[dict-item]
    "subscriptions": (Subscription.__table__, ("external_id",), _as_is),  # type: ignore[dict-item]
    "usage": (UsageSnapshot.__table__, ("customer_id", "period_end"), _usage),  # type: ignore[dict-item]
    "tickets": (SupportTicket.__table__, ("external_id",), _with_contact),  # type: ignore[dict-item]
    "surveys": (SurveyAnswer.__table__, ("external_id",), _with_contact),  # type: ignore[dict-item]
    "onboarding": (OnboardingStep.__table__, ("account_id", "step_key"), _as_is),  # type: ignore[dict-item]
}
