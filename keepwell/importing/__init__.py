"""Getting a company's own customer data in: accounts, contacts, subscriptions, usage, support tickets, survey
answers and onboarding steps, from CSV or JSON files (`python -m keepwell import`) or from any other caller (the
ingest API). The columns of each kind are documented in SCHEMA.md beside this file.

Modules: `rows` (the kinds and their pydantic row models), `readers` (CSV and JSON files), `validation` (rows,
duplicates, references), `report` (errors and counts), `writer` (bulk idempotent upserts), `terms` (the accounts'
current terms follow their subscriptions), `importer` (a whole run over files, in one transaction).

The API for other callers, two steps over one session (the caller owns the transaction)::

    from keepwell import importing

    records, errors = importing.validate(session, "usage", items)  # items: a list of dicts (JSON objects)
    if errors:  # each a RowError: .line (the item's index in `items`, from 0), .field (or None), .reason
        ...  # refuse the batch, naming the items: [error.as_dict() for error in errors]
    else:
        importing.write(session, "usage", records)  # insert or update by natural key; re-sending changes nothing

- `kind` is one of `importing.KINDS`: "accounts", "contacts", "subscriptions", "usage", "tickets", "surveys",
  "onboarding"; singulars ("survey", "subscription") and file-name aliases ("survey_answers") work too, and an
  unknown kind raises `UnknownKind`.
- `validate` checks every item against the kind's model, refuses a second item with the same natural key (a
  duplicate) and any item naming an account (or contact, or CSM) that is not in the database.
- `write` upserts by the natural key (account id; contact, subscription, ticket and answer external ids; usage
  account + period_end; onboarding account + step_key); writing subscriptions (or accounts) also updates the
  accounts' current plan, MRR, seats and renewal date on `customers`.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from keepwell.importing.report import Report, RowError
from keepwell.importing.rows import KINDS, Row, UnknownKind, kind_named
from keepwell.importing.validation import Validator
from keepwell.importing.writer import write


class Validation(NamedTuple):
    """The rows that passed (ready for `write`) and the errors of those that did not."""

    records: list[Row]
    errors: list[RowError]


def validate(session: Session, kind: str, items: Sequence[Any], *, source: str = "request") -> Validation:
    """Validate `items` (dicts with a kind's fields) as one batch; errors name items by their index from 0.

    Raises:
        UnknownKind: `kind` is none of KINDS.
    """
    records, errors = Validator(session).check(kind_named(kind), source, enumerate(items), "item")
    return Validation(records, errors)


__all__ = ["KINDS", "Report", "Row", "RowError", "UnknownKind", "Validation", "kind_named", "validate", "write"]
