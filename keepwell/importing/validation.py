"""Row validation: each row against its kind's model, its natural key against the rows before it in the same file,
and the account, contact and CSM it names against the database and the rest of the import."""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.batches import batched
from keepwell.importing.report import Position, RowError, errors_of
from keepwell.importing.rows import AccountRow, ContactRow, Kind, Row
from keepwell.models import Contact, CSMUser, Customer

# Ids per IN (...) query: well under SQLite's and PostgreSQL's bound-parameter limits.
_LOOKUP_BATCH = 500


class Validator:
    """Validates the rows of one import run (or one API batch). It remembers what the run has accepted so far: the
    accounts and contacts earlier files define count as known, and a key seen twice in one source is a duplicate."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._accounts: set[str] = set()  # known to exist: in the database or accepted earlier in this run
        self._contacts: set[str] = set()
        self._csms: set[str] | None = None
        self._seen: dict[str, dict[tuple[Any, ...], int]] = {}

    def check(
        self, kind: Kind, source: str, items: Iterable[tuple[int, Any]], position: Position = "line"
    ) -> tuple[list[Row], list[RowError]]:
        """The valid rows of `items` (pairs of line or item number and the row's fields) and the errors of the rest.

        Args:
            kind: what the rows are.
            source: the file name (or "request") errors name.
            items: the rows with their line (CSV: counting the header as 1) or item index (JSON, API: from 0).
            position: whether the numbers are lines or items.
        """
        seen = self._seen.setdefault(source, {})
        parsed: list[tuple[int, Row]] = []
        errors: list[RowError] = []
        for line, data in items:
            if not isinstance(data, dict | Mapping):  # dict first: the common case, and the cheap check
                errors.append(RowError(source, line, None, f"is a {type(data).__name__}, not an object", position))
                continue
            try:
                row = kind.model.model_validate(data)
            except ValidationError as error:
                errors.extend(errors_of(error, source, line, position))
                continue
            key = kind.key_of(row)
            first = seen.setdefault(key, line)
            if first != line:
                what = ", ".join(f"{name} {value}" for name, value in zip(kind.key, key, strict=True))
                errors.append(RowError(source, line, None, f"duplicate of {position} {first} ({what})", position))
                continue
            parsed.append((line, row))
        self._learn_references(parsed)
        accepted: list[Row] = []
        for line, row in parsed:
            problem = self._reference_problem(row)
            if problem is not None:
                errors.append(RowError(source, line, problem[0], problem[1], position))
                continue
            accepted.append(row)
            if isinstance(row, AccountRow):
                self._accounts.add(row.id)
            elif isinstance(row, ContactRow):
                self._contacts.add(row.external_id)
        errors.sort(key=lambda error: error.line if error.line is not None else -1)
        return accepted, errors

    def _reference_problem(self, row: Row) -> tuple[str, str] | None:
        """The field and reason when `row` names an account, contact or CSM that does not exist."""
        # Fields read through __dict__: a pydantic model's getattr of a field it lacks is slow, and this runs per row.
        account_id = row.__dict__.get("account_id")
        if account_id is not None and account_id not in self._accounts:
            return "account_id", f"unknown account {account_id!r} (not in the database nor in this import)"
        contact = row.__dict__.get("contact_external_id")
        if contact is not None and contact not in self._contacts:
            return "contact_external_id", f"unknown contact {contact!r} (not in the database nor in this import)"
        if isinstance(row, AccountRow) and row.owner is not None and row.owner not in self._known_csms():
            return "owner", f"no console user {row.owner!r} (create it with `python -m keepwell users create`)"
        return None

    def _learn_references(self, parsed: list[tuple[int, Row]]) -> None:
        """Look up in the database, in batches, the accounts and contacts the rows name that the run does not know."""
        accounts = {row.__dict__.get("account_id") for _, row in parsed} - self._accounts - {None}
        contacts = {row.__dict__.get("contact_external_id") for _, row in parsed} - self._contacts - {None}
        self._accounts.update(_existing(self._session, Customer.id, accounts))
        self._contacts.update(_existing(self._session, Contact.external_id, contacts))

    def _known_csms(self) -> set[str]:
        if self._csms is None:
            self._csms = set(self._session.scalars(select(CSMUser.username)))
        return self._csms


def _existing(session: Session, column: Any, values: set[Any]) -> Iterator[Any]:
    for batch in batched(sorted(values), _LOOKUP_BATCH):
        yield from session.scalars(select(column).where(column.in_(batch)))
