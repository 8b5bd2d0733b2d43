"""The customer directory: every account with its latest health, owner and revenue, searched by name or id and
filtered by health band or owner, a page at a time (the console's way into a customer 360)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from keepwell.models import CSMUser, Customer, HealthSnapshot
from keepwell.models.success import HEALTH_BANDS
from keepwell.segments import PLAN_LABELS

UNSCORED = "unscored"  # the band filter's value for accounts without a snapshot yet
BAND_FILTERS = (*HEALTH_BANDS, UNSCORED)


@dataclass(frozen=True)
class DirectoryRow:
    id: str
    name: str
    plan: str  # its label
    mrr: float
    renewal_date: date
    owner: str | None
    score: int | None  # the latest snapshot's; None before the first recompute
    band: str | None


@dataclass(frozen=True)
class DirectoryPage:
    rows: list[DirectoryRow]
    total: int  # accounts matching the filters


def search(
    session: Session,
    *,
    text: str = "",
    band: str | None = None,
    owner_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DirectoryPage:
    """Accounts whose name or id contains `text` (any case), in `band` (or UNSCORED), owned by `owner_id`; by name.

    Raises:
        ValueError: a band that is none of BAND_FILTERS.
    """
    if band is not None and band not in BAND_FILTERS:
        raise ValueError(f"unknown health band {band!r}; choose one of {', '.join(BAND_FILTERS)}")
    # The latest snapshot's score and band, looked up per account on the (account_id, as_of) unique index: far
    # cheaper than grouping every snapshot of the book (a year of weekly snapshots is 52 rows an account), and it
    # keeps the query driven by the accounts when filtering by band.
    score, latest_band = (
        select(column)
        .where(HealthSnapshot.account_id == Customer.id)
        .order_by(HealthSnapshot.as_of.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
        for column in (HealthSnapshot.score, HealthSnapshot.band)
    )
    owner = aliased(CSMUser)
    conditions: list[ColumnElement[bool]] = [true()]
    if text.strip():
        needle = text.strip()
        conditions.append(
            or_(Customer.name.icontains(needle, autoescape=True), Customer.id.icontains(needle, autoescape=True))
        )
    if band == UNSCORED:
        conditions.append(latest_band.is_(None))
    elif band is not None:
        conditions.append(latest_band == band)
    if owner_id is not None:
        conditions.append(Customer.owner_csm_id == owner_id)
    owner_name = func.coalesce(func.nullif(owner.display_name, ""), owner.username)
    columns = (Customer.id, Customer.name, Customer.plan, Customer.mrr, Customer.renewal_date, owner_name)
    query = (
        select(*columns, score, latest_band)
        .select_from(Customer)
        .outerjoin(owner, owner.id == Customer.owner_csm_id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Customer.name, Customer.id).limit(limit).offset(offset)).all()
    return DirectoryPage(
        rows=[
            DirectoryRow(account_id, name, PLAN_LABELS.get(plan, plan), float(mrr), renewal, owner_label, score, band_)
            for account_id, name, plan, mrr, renewal, owner_label, score, band_ in rows
        ],
        total=int(total),
    )
