"""keepwell/funnel.py and the offer rules that need the database: no offer to an account with an open churn signal
or a red one, never the same offer twice within the repeat period, never one it owns; the funnel counted per offer;
and why each offer fits, in the account's own numbers."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import funnel, signals
from keepwell.accounts import Account
from keepwell.health import HealthScore
from keepwell.models import Customer, OfferEvent, Subscription
from keepwell.offer_catalogue import Offer, load_catalogue
from keepwell.offers import OPEN_SIGNAL_REASON, Standing, recommend, why_it_fits

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> list[Offer]:
    return load_catalogue()


@pytest.fixture
def stored(db: Session, make_account: Callable[..., Account]) -> Callable[..., Account]:
    """An account (the conftest factory's) also stored as a customers row, so events and signals can name it."""

    def _add(**overrides: Any) -> Account:
        account = make_account(**overrides)
        db.add(Customer(id=account.id, name=account.name, plan=account.plan, company_size=account.company_size,
                        lifecycle_stage=account.lifecycle_stage, mrr=account.mrr,
                        seats_purchased=account.seats_purchased, seats_used=account.seats_used,
                        signup_date=account.signup_date, renewal_date=account.renewal_date))  # fmt: skip
        db.flush()
        return account

    return _add


GREEN = HealthScore(score=85, band="green")


def test_the_reason_for_more_seats_is_the_seats_in_use(catalogue, make_account) -> None:
    account = make_account(plan="growth", company_size="small", seats_purchased=50, seats_used=48)
    recommendation = recommend(account, GREEN, catalogue)
    assert "add-seats" in [o.id for o in recommendation.offers]
    assert recommendation.why["add-seats"] == "You use 48 of 50 seats."


def test_every_recommended_offer_says_why_in_the_accounts_numbers(catalogue, make_account, make_usage) -> None:
    account = make_account(
        plan="starter", seats_purchased=20, seats_used=19, usage=make_usage(feature_adoption=0.625, active_users=19)
    )
    recommendation = recommend(account, GREEN, catalogue)
    assert set(recommendation.why) == {o.id for o in recommendation.offers} and recommendation.offers
    assert recommendation.why["upgrade-starter-to-growth"] == "Your team uses 62% of the key features."
    renewing = make_account(lifecycle_stage="renewal", renewal_date=date(2026, 1, 15))
    offer = next(o for o in catalogue if o.id == "renewal-review")
    assert why_it_fits(offer, renewing, GREEN) == "Your renewal is on 15 January 2026."


def test_an_open_churn_signal_means_no_offer_at_all_not_even_enablement(catalogue, make_account, make_usage) -> None:
    struggling = make_account(usage=make_usage(feature_adoption=0.2, active_users=5))  # enablement would fit
    assert recommend(struggling, HealthScore(score=55, band="yellow"), catalogue).offers
    recommendation = recommend(struggling, HealthScore(score=55, band="yellow"), catalogue,
                               standing=Standing(open_signals=frozenset({"usage_drop"})))  # fmt: skip
    assert recommendation.offers == [] and recommendation.reason == OPEN_SIGNAL_REASON


def test_offers_shown_recently_or_owned_are_left_out(catalogue, make_account) -> None:
    account = make_account(plan="growth", company_size="small", seats_purchased=50, seats_used=48)
    first = [o.id for o in recommend(account, GREEN, catalogue).offers]
    later = recommend(account, GREEN, catalogue, standing=Standing(recently_shown=frozenset(first[:1]),
                                                                    owned=frozenset(first[1:2])))  # fmt: skip
    assert not {o.id for o in later.offers} & set(first[:2]) and later.offers
    none_left = recommend(
        account, GREEN, catalogue, standing=Standing(recently_shown=frozenset(o.id for o in catalogue))
    )
    assert none_left.offers == [] and "shared recently" in none_left.reason


def test_standing_reads_signals_the_repeat_period_and_acceptances(db: Session, stored) -> None:
    account = stored()
    funnel.record(db, account.id, "add-seats", "shown", at=NOW - timedelta(days=29))
    funnel.record(db, account.id, "addon-automations-pro", "shown", at=NOW - timedelta(days=31))  # outside 30 days
    funnel.record(db, account.id, "switch-to-annual", "accepted", at=NOW - timedelta(days=400))
    assert funnel.standing(db, account.id, NOW, repeat_days=30) == Standing(
        recently_shown=frozenset({"add-seats"}), owned=frozenset({"switch-to-annual"})
    )
    signals.open_signal(db, account.id, signals.DETRACTOR_NPS, {"summary": "NPS 3"})
    assert funnel.standing(db, account.id, NOW, repeat_days=30).open_signals == {"detractor_nps"}


def test_an_add_on_the_subscription_includes_is_never_offered(catalogue, make_account, make_usage) -> None:
    account = make_account(plan="growth", usage=make_usage(feature_adoption=0.8, active_users=18))
    offered = [o.id for o in recommend(account, GREEN, catalogue, limit=10).offers]
    assert "addon-automations-pro" in offered
    owning = recommend(account, GREEN, catalogue, limit=10, standing=Standing(add_ons=frozenset({"automations-pro"})))
    assert [o.id for o in owning.offers] == [o for o in offered if o != "addon-automations-pro"]


def test_standing_reads_the_add_ons_of_the_term_in_force(db: Session, stored) -> None:
    account = stored()

    def term(external_id: str, started: date, ended: date | None, add_ons: list[str]) -> Subscription:
        seats = {"seats_purchased": 10, "seats_used": 8}
        return Subscription(external_id=external_id, account_id=account.id, plan="growth", mrr=100.0, **seats,
                            started_on=started, ended_on=ended, add_ons=add_ons)  # fmt: skip

    db.add(term("old", date(2024, 1, 1), date(2025, 1, 1), ["premium-support"]))
    db.add(term("now", date(2025, 1, 1), None, ["automations-pro", "data-residency-eu"]))
    db.add(term("next", date(2025, 9, 1), None, ["advanced-analytics"]))  # starts after NOW
    db.flush()
    assert funnel.standing(db, account.id, NOW).add_ons == {"automations-pro", "data-residency-eu"}
    assert funnel.standing(db, stored(id="cus_without_terms").id, NOW).add_ons == frozenset()


def test_recommend_and_record_caps_repeats_across_calls(db: Session, stored, catalogue) -> None:
    account = stored(plan="growth", company_size="small", seats_purchased=50, seats_used=48)
    first = funnel.recommend_and_record(db, account, GREEN, catalogue, "conv-1", NOW)
    db.commit()
    second = funnel.recommend_and_record(db, account, GREEN, catalogue, "conv-2", NOW + timedelta(days=1))
    db.commit()
    a_month_on = funnel.recommend_and_record(db, account, GREEN, catalogue, "conv-3", NOW + timedelta(days=31))
    assert first.offers and not {o.id for o in first.offers} & {o.id for o in second.offers}
    assert [o.id for o in a_month_on.offers] == [o.id for o in first.offers]
    shown = db.scalars(select(OfferEvent).where(OfferEvent.conversation_id == "conv-1")).all()
    assert {e.offer_id for e in shown} == {o.id for o in first.offers} and {e.event for e in shown} == {"shown"}


def test_a_red_account_with_an_open_signal_gets_nothing_and_nothing_is_recorded(db: Session, stored, catalogue) -> None:
    account = stored()
    signals.open_cancellation_request(db, account.id, "cancelling", "we're leaving", "conv-1")
    recommendation = funnel.recommend_and_record(db, account, HealthScore(score=20, band="red"), catalogue, "c", NOW)
    assert recommendation.offers == [] and db.scalars(select(OfferEvent)).all() == []


def test_the_funnel_counts_each_step_per_offer_over_a_period(db: Session, stored) -> None:
    one, two = stored(id="cus_1"), stored(id="cus_2")
    steps = [
        (one, "add-seats", "shown", 0), (two, "add-seats", "shown", 1), (one, "add-seats", "clicked", 1),
        (one, "add-seats", "accepted", 2), (two, "team-training", "shown", 3), (two, "team-training", "shown", 40),
    ]  # fmt: skip
    for account, offer_id, event, days_ago in steps:
        funnel.record(db, account.id, offer_id, event, at=NOW - timedelta(days=days_ago))
    db.commit()
    everything = {row.offer_id: row for row in funnel.funnel(db)}
    assert (everything["add-seats"].shown, everything["add-seats"].clicked, everything["add-seats"].accepted) == (
        2,
        1,
        1,
    )
    assert everything["add-seats"].click_rate == 0.5 and everything["add-seats"].accept_rate == 1.0
    assert everything["team-training"].shown == 2 and everything["team-training"].click_rate == 0.0
    assert everything["team-training"].accept_rate is None
    last_month = {row.offer_id: row.shown for row in funnel.funnel(db, start=NOW - timedelta(days=30))}
    assert last_month == {"add-seats": 2, "team-training": 1}


def test_an_unknown_step_is_refused(db: Session, stored) -> None:
    account = stored()
    with pytest.raises(ValueError, match="unknown offer event 'liked'"):
        funnel.record(db, account.id, "add-seats", "liked")


def test_the_accounts_numbers_are_read_as_they_are(make_account, make_usage, catalogue) -> None:
    # The reason reads the account, never the catalogue's threshold: 24 of 25 is said as 24 of 25.
    account = replace(make_account(plan="enterprise", seats_purchased=25, seats_used=24), usage=make_usage())
    assert recommend(account, GREEN, catalogue).why.get("add-seats") == "You use 24 of 25 seats."
