"""What each account pays for over time: subscription terms, the history MRR, churn and retention are read from."""

from datetime import date

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base

SUBSCRIPTION_STATUSES = ("trialing", "active", "canceled", "superseded")
BILLING_STATES = ("current", "past_due", "unpaid")
# An add-on's key, as the offer catalogue and the subscription rows name it: `automations-pro`.
ADD_ON_KEY = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_ADD_ONS = 50


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Subscription(Base):
    """One term of an account's subscription at one plan, price and seat count.

    A term is in force on day d when `started_on <= d` and (`ended_on` is empty or `d < ended_on`). A plan, price or
    seat change ends the term (status `superseded`) and starts a new one, so the MRR of any past day can be read
    back; a cancellation sets `ended_on` (possibly in the future: cancelled at the end of the paid period).
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("external_id"),
        CheckConstraint(_one_of("status", SUBSCRIPTION_STATUSES), name="status"),
        CheckConstraint(_one_of("billing_state", BILLING_STATES), name="billing_state"),
        CheckConstraint("mrr >= 0", name="mrr_not_negative"),
        CheckConstraint("seats_purchased >= 0 AND seats_used >= 0", name="seats_not_negative"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        # MRR at a date: the terms of these accounts that started by then.
        Index("ix_subscriptions_account_id_started_on", "account_id", "started_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The billing system's id of this term: what makes a re-import idempotent.
    external_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(32))
    mrr: Mapped[float] = mapped_column(Float)  # monthly recurring revenue of this term, USD
    seats_purchased: Mapped[int] = mapped_column(Integer)
    seats_used: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date] = mapped_column(Date)
    renews_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # None: no fixed term (monthly, free)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # one of SUBSCRIPTION_STATUSES
    billing_state: Mapped[str] = mapped_column(String(16), default="current")  # one of BILLING_STATES
    # The add-ons this term includes, by the catalogue's `add_on` keys (offers.yml): never offered to the account.
    add_ons: Mapped[list[str]] = mapped_column(JSON, default=list)
