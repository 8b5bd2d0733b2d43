"""keepwell/demo_records.py: the demo accounts' subscriptions, contacts, survey answers and onboarding agree with the
accounts and their usage, and give the KPIs something to show (expansion, contraction, churn)."""

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import demo_data
from keepwell.bootstrap import DEMO_CSM, prepare
from keepwell.db import get_engine, session_scope
from keepwell.demo_records import CHECKLIST
from keepwell.kpis import Period, book_kpis
from keepwell.models import Contact, Customer, OnboardingStep, Subscription, SurveyAnswer, UsageSnapshot
from keepwell.settings import CoreSettings

TODAY = date(2025, 6, 1)


@pytest.fixture
def seeded(session: Session) -> list[Customer]:
    assert demo_data.seed(session, today=TODAY) == 64
    return list(session.scalars(select(Customer).order_by(Customer.id)))


def _terms(session: Session) -> dict[str, list[Subscription]]:
    terms: dict[str, list[Subscription]] = defaultdict(list)
    for term in session.scalars(select(Subscription).order_by(Subscription.account_id, Subscription.started_on)):
        terms[term.account_id].append(term)
    return terms


def test_each_accounts_term_in_force_today_is_its_plan_price_and_seats(
    session: Session, seeded: list[Customer]
) -> None:
    terms = _terms(session)
    for customer in seeded:
        in_force = [
            t for t in terms[customer.id] if t.started_on <= TODAY and (t.ended_on is None or TODAY < t.ended_on)
        ]
        assert len(in_force) == 1, customer.id
        (term,) = in_force
        assert (term.plan, term.mrr, term.seats_purchased, term.seats_used, term.renews_on, term.status) == (
            customer.plan, customer.mrr, customer.seats_purchased, customer.seats_used, customer.renewal_date, "active"
        )  # fmt: skip
        assert terms[customer.id][0].started_on == customer.signup_date
        for earlier, later in zip(terms[customer.id], terms[customer.id][1:], strict=False):
            assert (earlier.status, earlier.ended_on) == ("superseded", later.started_on)


def test_some_accounts_grew_some_shrank_and_some_left_for_free(session: Session, seeded: list[Customer]) -> None:
    changes = Counter()
    downgrades = []
    for history in _terms(session).values():
        if len(history) == 2:
            earlier, current = history
            if current.plan == "free":
                downgrades.append(earlier.ended_on)
                assert earlier.plan == "starter" and earlier.mrr > 0
            else:
                changes["expansion" if current.mrr > earlier.mrr else "contraction"] += 1
    assert changes["expansion"] >= 5 and changes["contraction"] >= 2
    # One downgrade a month, from 15 days ago back.
    assert sorted(downgrades, reverse=True) == [TODAY - timedelta(days=15 + 30 * k) for k in range(len(downgrades))]
    assert len(downgrades) >= 2


def test_the_demo_books_kpis_have_churn_and_ltv(session: Session, seeded: list[Customer]) -> None:
    report = book_kpis(session, Period.month_before(TODAY), CoreSettings(demo_mode=True))
    assert report["churn_rate"].value is not None and report["churn_rate"].value > 0
    assert report["ltv"].value is not None and report["ltv"].value > report["arpa"].value  # type: ignore[operator]
    assert report["nps"].value is not None and report["csat"].value is not None


def test_contacts_one_champion_each_and_billing_on_paid_plans(session: Session, seeded: list[Customer]) -> None:
    contacts: dict[str, list[Contact]] = defaultdict(list)
    for contact in session.scalars(select(Contact)):
        contacts[contact.account_id].append(contact)
    for customer in seeded:
        people = contacts[customer.id]
        assert [c.role for c in people if c.is_primary] == ["champion"]
        assert ("billing" in {c.role for c in people}) == (customer.plan != "free")
        assert all(c.email and c.email.endswith(".example") for c in people)


def test_survey_answers_are_the_snapshots_nps_and_csat(session: Session, seeded: list[Customer]) -> None:
    snapshots = session.scalars(select(UsageSnapshot)).all()
    expected = sorted(
        [(s.customer_id, "nps", s.nps) for s in snapshots if s.nps is not None]
        + [(s.customer_id, "csat", round(s.csat)) for s in snapshots if s.csat is not None]
    )
    answers = session.scalars(select(SurveyAnswer)).all()
    assert sorted((a.account_id, a.kind, a.score) for a in answers) == expected
    assert all(a.contact_id is not None for a in answers)


def test_onboarding_checklists_follow_the_lifecycle_stage(session: Session, seeded: list[Customer]) -> None:
    steps: dict[str, list[OnboardingStep]] = defaultdict(list)
    for step in session.scalars(select(OnboardingStep).order_by(OnboardingStep.position)):
        steps[step.account_id].append(step)
    for customer in seeded:
        checklist = steps[customer.id]
        assert [s.step_key for s in checklist] == [key for key, _, _ in CHECKLIST]
        done = [s.completed_at for s in checklist if s.completed_at is not None]
        assert done == sorted(done)
        assert all(s.completed_at is not None for s in checklist[: len(done)])  # completed in order
        if customer.lifecycle_stage in ("mature", "renewal"):
            assert len(done) == len(CHECKLIST)
        elif customer.lifecycle_stage == "onboarding":
            assert 1 <= len(done) <= 4


def test_assign_owner_only_fills_accounts_without_one(session: Session, seeded: list[Customer]) -> None:
    from keepwell.models import CSMUser

    session.add_all([CSMUser(id=1, username="a@x.test", password_hash="x"), CSMUser(id=2, username="b@x.test",
                                                                                   password_hash="x")])  # fmt: skip
    session.flush()
    seeded[0].owner_csm_id = 2
    session.flush()
    assert demo_data.assign_owner(session, 1) == 63
    session.expire_all()
    assert Counter(session.scalars(select(Customer.owner_csm_id))) == {1: 63, 2: 1}


def test_the_demo_csm_owns_the_demo_accounts(tmp_path: object) -> None:
    settings = CoreSettings(demo_mode=True, data_dir=tmp_path)  # type: ignore[arg-type]
    assert prepare(settings).customers_seeded == 64
    engine = get_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        from keepwell import staff

        csm = staff.get_by_email(session, DEMO_CSM[0])
        assert csm is not None
        assert set(session.scalars(select(Customer.owner_csm_id))) == {csm.id}
    engine.dispose()
