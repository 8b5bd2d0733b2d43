"""The customer directory: search by name or id, filter by latest health band and owner, pages, on both databases."""

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session

from keepwell import customer_directory, staff
from keepwell.models import Customer, HealthSnapshot


@pytest.fixture
def add(db: Session) -> Callable[..., None]:
    def _add(account_id: str, name: str, *snapshots: tuple[date, int, str], owner: int | None = None) -> None:
        db.add(
            Customer(
                id=account_id, name=name, plan="growth", company_size="mid", lifecycle_stage="adoption", mrr=480.0,
                seats_purchased=10, seats_used=8, signup_date=date(2025, 1, 1), renewal_date=date(2027, 1, 1),
                owner_csm_id=owner,
            )
        )  # fmt: skip
        db.flush()
        for as_of, score, band in snapshots:
            db.add(HealthSnapshot(account_id=account_id, as_of=as_of, scorecard="default", score=score, band=band))
        db.flush()

    return _add


def test_search_filters_and_pages(db: Session, add: Callable[..., None]) -> None:
    dana = staff.create(db, "dana@example.test", "a-long-enough-password", display_name="Dana")
    add("cus_a", "Acme 100% Corp", (date(2026, 1, 1), 30, "red"), (date(2026, 2, 1), 75, "green"), owner=dana.id)
    add("cus_b", "Bluefin", (date(2026, 2, 1), 20, "red"))
    add("cus_c", "Copperleaf")

    everyone = customer_directory.search(db)
    assert everyone.total == 3
    assert [(r.name, r.score, r.band, r.owner) for r in everyone.rows] == [
        ("Acme 100% Corp", 75, "green", "Dana"),  # the latest snapshot, not the red one before it
        ("Bluefin", 20, "red", None),
        ("Copperleaf", None, None, None),
    ]
    assert [r.id for r in customer_directory.search(db, text="ACME").rows] == ["cus_a"]
    assert [r.id for r in customer_directory.search(db, text="100%").rows] == ["cus_a"]  # % is a character
    assert [r.id for r in customer_directory.search(db, text="0%").rows] == ["cus_a"]
    assert [r.id for r in customer_directory.search(db, text="cus_b").rows] == ["cus_b"]
    assert [r.id for r in customer_directory.search(db, band="red").rows] == ["cus_b"]
    assert [r.id for r in customer_directory.search(db, band="unscored").rows] == ["cus_c"]
    assert [r.id for r in customer_directory.search(db, owner_id=dana.id).rows] == ["cus_a"]
    second = customer_directory.search(db, limit=2, offset=2)
    assert (second.total, [r.id for r in second.rows]) == (3, ["cus_c"])
    with pytest.raises(ValueError, match="unknown health band 'blue'"):
        customer_directory.search(db, band="blue")
