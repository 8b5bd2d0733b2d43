"""Writing validated rows: one bulk `INSERT … ON CONFLICT (natural key) DO UPDATE` per batch, in the database's own
dialect (SQLite or PostgreSQL), so a re-import updates rows in place and 100,000 rows take seconds, not minutes."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from keepwell.importing._batches import batched
from keepwell.importing.rows import (
    AccountRow,
    ContactRow,
    OnboardingRow,
    Row,
    SubscriptionRow,
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
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table)
    elif dialect == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise NotImplementedError(f"importing into {dialect} is not supported (SQLite and PostgreSQL are)")
    updated = {name: statement.excluded[name] for name in records[0] if name not in conflict}
    statement = statement.on_conflict_do_update(index_elements=list(conflict), set_=updated)
    # A list of parameter sets runs as one executemany: the driver's fast path, no ORM objects.
    session.execute(statement, records)


class _Lookups:
    """The database ids behind the names a batch of rows uses (contact external ids, CSM usernames), each read once."""

    def __init__(self, session: Session, rows: Sequence[Row]) -> None:
        self._session = session
        self._csms: dict[str, int] | None = None
        self._contacts: dict[str, int] = {}
        wanted = sorted({name for row in rows if (name := getattr(row, "contact_external_id", None)) is not None})
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


def _account(row: AccountRow, lookups: _Lookups) -> dict[str, Any]:
    record = row.model_dump(exclude={"owner"})
    record["owner_csm_id"] = lookups.csm(row.owner)
    return record


def _contact(row: ContactRow, _: _Lookups) -> dict[str, Any]:
    return row.model_dump()


def _subscription(row: SubscriptionRow, _: _Lookups) -> dict[str, Any]:
    return row.model_dump()


def _usage(row: UsageRow, _: _Lookups) -> dict[str, Any]:
    record = row.model_dump(exclude={"account_id"})
    record["customer_id"] = row.account_id
    return record


def _ticket(row: TicketRow, lookups: _Lookups) -> dict[str, Any]:
    record = row.model_dump(exclude={"contact_external_id"})
    record["contact_id"] = lookups.contact(row.contact_external_id)
    return record


def _survey(row: SurveyRow, lookups: _Lookups) -> dict[str, Any]:
    record = row.model_dump(exclude={"contact_external_id"})
    record["contact_id"] = lookups.contact(row.contact_external_id)
    return record


def _onboarding(row: OnboardingRow, _: _Lookups) -> dict[str, Any]:
    return row.model_dump()


_Target = tuple[Table, tuple[str, ...], Callable[[Any, _Lookups], dict[str, Any]]]
_TARGETS: dict[str, _Target] = {
    "accounts": (Customer.__table__, ("id",), _account),  # type: ignore[dict-item]
    "contacts": (Contact.__table__, ("external_id",), _contact),  # type: ignore[dict-item]
    "subscriptions": (Subscription.__table__, ("external_id",), _subscription),  # type: ignore[dict-item]
    "usage": (UsageSnapshot.__table__, ("customer_id", "period_end"), _usage),  # type: ignore[dict-item]
    "tickets": (SupportTicket.__table__, ("external_id",), _ticket),  # type: ignore[dict-item]
    "surveys": (SurveyAnswer.__table__, ("external_id",), _survey),  # type: ignore[dict-item]
    "onboarding": (OnboardingStep.__table__, ("account_id", "step_key"), _onboarding),  # type: ignore[dict-item]
}
