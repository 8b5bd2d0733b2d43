"""A small hand-made book of business whose KPIs for May 2025 are worked out by hand in test_book.py."""

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from keepwell.models import Customer, Subscription, SurveyAnswer

# account: (plan, company size), then its terms (MRR, started, ended, status).
BOOK: dict[str, tuple[tuple[str, str], list[tuple[float, date, date | None, str]]]] = {
    # Steady at 1,000.
    "acc_a": (("growth", "mid"), [(1000.0, date(2024, 1, 1), None, "active")]),
    # Grows 200 -> 300 on 10 May: expansion 100.
    "acc_b": (
        ("growth", "small"),
        [(200.0, date(2024, 6, 1), date(2025, 5, 10), "superseded"), (300.0, date(2025, 5, 10), None, "active")],
    ),
    # Cancels on 20 May: lost, 500 churned.
    "acc_c": (("starter", "small"), [(500.0, date(2024, 1, 1), date(2025, 5, 20), "canceled")]),
    # Shrinks 2,000 -> 1,500 on 15 May: contraction 500.
    "acc_d": (
        ("enterprise", "large"),
        [(2000.0, date(2024, 1, 1), date(2025, 5, 15), "superseded"), (1500.0, date(2025, 5, 15), None, "active")],
    ),
    # New on 5 May: in the MRR at the end, in neither churn nor retention.
    "acc_e": (("starter", "small"), [(100.0, date(2025, 5, 5), None, "active")]),
    # Free: a user, not a customer.
    "acc_f": (("free", "small"), [(0.0, date(2024, 1, 1), None, "active")]),
    # On trial: its price is not revenue yet.
    "acc_g": (("growth", "mid"), [(400.0, date(2025, 5, 1), None, "trialing")]),
    # Left before May: nothing at either end.
    "acc_h": (("growth", "mid"), [(900.0, date(2024, 1, 1), date(2025, 4, 30), "canceled")]),
}
# (account, kind, score, answered at): May's CSAT 5, 4, 2 and NPS 10, 9, 3, 7; two answers just outside May.
ANSWERS = [
    ("acc_a", "csat", 5, datetime(2025, 5, 1, 0, 0, tzinfo=UTC)),
    ("acc_b", "csat", 4, datetime(2025, 5, 12, 9, 0, tzinfo=UTC)),
    ("acc_c", "csat", 2, datetime(2025, 5, 19, 9, 0, tzinfo=UTC)),
    ("acc_a", "nps", 10, datetime(2025, 5, 3, 9, 0, tzinfo=UTC)),
    ("acc_b", "nps", 9, datetime(2025, 5, 4, 9, 0, tzinfo=UTC)),
    ("acc_c", "nps", 3, datetime(2025, 5, 18, 9, 0, tzinfo=UTC)),
    ("acc_d", "nps", 7, datetime(2025, 5, 31, 23, 59, tzinfo=UTC)),
    ("acc_d", "nps", 0, datetime(2025, 6, 1, 0, 0, tzinfo=UTC)),
    ("acc_d", "csat", 1, datetime(2025, 4, 30, 23, 59, tzinfo=UTC)),
]


def fill(session: Session) -> None:
    """Add BOOK and ANSWERS and flush."""
    for account, ((plan, size), terms) in BOOK.items():
        session.add(
            Customer(
                id=account, name=account.upper(), plan=plan, company_size=size, lifecycle_stage="adoption",
                mrr=terms[-1][0], seats_purchased=10, seats_used=5, signup_date=terms[0][1],
                renewal_date=date(2026, 1, 1),
            )
        )  # fmt: skip
        session.flush()
        for n, (mrr, started, ended, status) in enumerate(terms):
            session.add(
                Subscription(
                    external_id=f"{account}-{n}", account_id=account, plan=plan, mrr=mrr, seats_purchased=10,
                    seats_used=5, started_on=started, ended_on=ended, status=status,
                )
            )  # fmt: skip
    for n, (account, kind, score, at) in enumerate(ANSWERS):
        session.add(SurveyAnswer(external_id=f"answer-{n}", account_id=account, kind=kind, score=score, answered_at=at))
    session.flush()
