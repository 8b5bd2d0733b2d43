"""One ingest batch: route each item by its `type` to the importer's record kind, validate them all with the
importer (keepwell.importing), then write them all or none. The caller owns the transaction."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.schemas import INGEST_ITEM_TYPES
from keepwell.importing import Row, kind_named, write
from keepwell.importing.validation import Validator


@dataclass(frozen=True)
class ItemError:
    item: int  # the index in the batch, from 0
    field: str | None
    reason: str


@dataclass
class Outcome:
    """What a batch came to: the errors that refuse it, or how many rows of each type were written."""

    errors: list[ItemError] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)


def ingest(session: Session, items: Sequence[dict[str, Any]]) -> Outcome:
    """Validate every item, and write them all when none fails; nothing is written otherwise.

    Items of one type are validated together (a second item with the same natural key is a duplicate); errors
    name the item by its index in `items`.
    """
    by_type: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    outcome = Outcome()
    for index, item in enumerate(items):
        item_type = item.get("type")
        if item_type not in INGEST_ITEM_TYPES:
            known = ", ".join(INGEST_ITEM_TYPES)
            reason = "missing" if item_type is None else f"unknown type {str(item_type)[:40]!r}; the types are {known}"
            outcome.errors.append(ItemError(index, "type", reason))
            continue
        by_type[str(item_type)].append((index, {key: value for key, value in item.items() if key != "type"}))
    valid: dict[str, list[Row]] = {}
    for item_type, numbered in by_type.items():
        # Numbered by their index in the whole batch, so the importer's errors (duplicates too) name the right item.
        rows, errors = Validator(session).check(kind_named(INGEST_ITEM_TYPES[item_type]), "request", numbered, "item")
        outcome.errors += [ItemError(error.line or 0, error.field, error.reason) for error in errors]
        valid[item_type] = rows
    if outcome.errors:
        outcome.errors.sort(key=lambda error: error.item)
        return outcome
    for item_type, rows in valid.items():
        outcome.written[item_type] = write(session, INGEST_ITEM_TYPES[item_type], rows)
    return outcome
