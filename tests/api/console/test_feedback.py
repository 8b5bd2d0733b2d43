"""api/routes/console/feedback.py: product feedback, newest first."""

import html as html_lib

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import accounts, feedback


def _customer_with_usage(db: Session) -> accounts.Account:
    return next(account for account in accounts.list_accounts(db) if account.usage is not None)


def test_feedback_page_lists_feedback_newest_first(csm_client: TestClient, db: Session) -> None:
    customer = _customer_with_usage(db)
    feedback.record_feedback(db, "f" * 32, customer.id, "Dark mode please")
    db.commit()
    feedback.record_feedback(db, "g" * 32, None, "Gantt export to PDF")
    db.commit()
    page = csm_client.get("/console/feedback").text
    assert page.index("Gantt export to PDF") < page.index("Dark mode please")
    assert html_lib.escape(customer.name) in page and "Anonymous visitor" in page
    assert f'href="/console/conversations/{"f" * 32}"' in page


def test_each_piece_says_its_polarity_and_the_answer_it_is_about(csm_client: TestClient, db: Session) -> None:
    feedback.record_feedback(db, "h" * 32, None, "that didn't help", article_id="billing/refunds")
    feedback.record_feedback(db, "i" * 32, None, "I love the new board")
    db.commit()
    page = csm_client.get("/console/feedback").text
    assert 'data-polarity="negative">Negative</span> on the answer from billing/refunds' in page
    assert 'data-polarity="positive">Positive</span>' in page
