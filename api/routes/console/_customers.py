"""Readable customer labels for console lists: the account name, or "Anonymous visitor"."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from keepwell import accounts

ANONYMOUS = "Anonymous visitor"


@dataclass(frozen=True)
class CustomerLabel:
    id: str | None
    name: str
    known: bool = False  # an account on record: its name links to the customer 360


def labels(session: Session, ids: set[str | None]) -> dict[str | None, CustomerLabel]:
    """Account names for customer ids; anonymous visitors and deleted accounts keep a readable label."""
    found: dict[str | None, CustomerLabel] = {None: CustomerLabel(None, ANONYMOUS)}
    for customer_id in ids - {None}:
        account = accounts.get_account(session, customer_id) if customer_id else None
        name = account.name if account else f"Unknown account {customer_id}"
        found[customer_id] = CustomerLabel(customer_id, name, known=account is not None)
    return found
