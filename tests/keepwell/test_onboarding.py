"""keepwell/onboarding.py: the next incomplete step in checklist order, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from keepwell import onboarding
from keepwell.db import session_scope, upgrade
from keepwell.models import Customer, OnboardingStep


def test_the_next_step_is_the_first_incomplete_one_in_order(database: Engine) -> None:
    upgrade(database)
    done = datetime(2025, 5, 1, tzinfo=UTC)
    with session_scope(database) as session:
        session.add(
            Customer(
                id="a1", name="A", plan="growth", company_size="mid", lifecycle_stage="onboarding", mrr=1,
                seats_purchased=1, seats_used=1, signup_date=date(2025, 4, 1), renewal_date=date(2026, 4, 1),
            )
        )  # fmt: skip
        session.flush()
        session.add_all(
            [
                OnboardingStep(account_id="a1", step_key="c", title="Third", position=3, help_url="/help/c"),
                OnboardingStep(account_id="a1", step_key="a", title="First", position=1, completed_at=done),
                OnboardingStep(account_id="a1", step_key="b", title="Second", position=2, help_url="/help/b"),
            ]
        )
    with session_scope(database) as session:
        got = onboarding.checklist(session, "a1")
        nothing = onboarding.checklist(session, "nobody")

    assert (got.done, got.total, got.complete) == (1, 3, False)
    assert got.next == onboarding.Step("b", "Second", "/help/b", None)
    assert (nothing.total, nothing.next, nothing.complete) == (0, None, False)
