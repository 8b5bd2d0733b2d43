"""Health scoring (keepwell/health.py over the bundled scorecards): measure maths, renormalisation of missing data,
bands, drivers in plain words, scorecard matching and the no-usage rule."""

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from keepwell import scorecards
from keepwell.accounts import Account, Usage
from keepwell.health import COMPONENT_LABELS, band_for, score, trend_between
from keepwell.scorecards import Bands, Scorecard
from tests.keepwell.conftest import TODAY

AccountFactory = Callable[..., Account]
UsageFactory = Callable[..., Usage]
BOOK = scorecards.bundled()
DEFAULT = BOOK.default


def card(measures: dict[str, Any], **fields: Any) -> Scorecard:
    return Scorecard.model_validate({"id": "test", "default": True, "measures": measures, **fields})


ONLY_ADOPTION = card({"feature_adoption": {"weight": 1, "linear": {"zero_at": 0, "full_at": 1}}})


def scored(account: Account, scorecard: Scorecard | None = None):  # type: ignore[no-untyped-def]
    return score(account, scorecard, today=TODAY)


def values(account: Account, scorecard: Scorecard | None = None) -> dict[str, float]:
    return {c.name: c.value for c in scored(account, scorecard).components}


def test_perfect_usage_scores_100_green_on_the_default_scorecard(make_account: AccountFactory) -> None:
    health = scored(make_account())

    assert (health.score, health.band, health.scorecard) == (100, "green", "default")
    assert [c.name for c in health.components] == list(DEFAULT.measures)
    assert all(c.value == 100 for c in health.components)


def test_measure_points_follow_the_scorecard_schemes(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    usage = make_usage(active_users=10, logins=100, feature_adoption=0.35, support_tickets=3, nps=8, csat=4.0)
    account = make_account(seats_purchased=20, seats_used=15, usage=usage)

    assert values(account) == {
        "active_users": pytest.approx(66.7),  # 10 of 15 seat holders
        "seat_utilisation": 75.0,  # 15 of 20 seats
        "feature_adoption": 35.0,
        "login_frequency": 50.0,  # 10 logins per active user, full at 20
        "support_load": pytest.approx(33.3),  # 3 tickets / 15 seats = 0.2 of the 0.3 ceiling
        "csat": 75.0,  # 4 on 1..5
        "nps": 80.0,  # 8 on 0..10
    }


def test_a_weekly_snapshot_counts_logins_per_month(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    weekly = make_usage(active_users=10, logins=35, period_days=7)  # 3.5 a week per user = 15 a month

    assert values(make_account(usage=weekly))["login_frequency"] == 75.0


def test_missing_measures_are_left_out_and_the_rest_renormalised(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    usage = make_usage(active_users=10, logins=100, feature_adoption=0.4, support_tickets=0, nps=None, csat=None)
    health = scored(make_account(usage=usage))

    assert {c.name for c in health.components} == set(DEFAULT.measures) - {"csat", "nps"}
    assert math.isclose(sum(c.weight for c in health.components), 1.0)
    left = {k: r.weight for k, r in DEFAULT.measures.items() if k not in {"csat", "nps"}}
    expected = sum(c.value * left[c.name] for c in health.components) / sum(left.values())
    assert health.score == math.floor(expected + 0.5)
    # Scored as zero instead, the two would pull the score down by their weight.
    zeroed = scored(make_account(usage=make_usage(**{**usage.__dict__, "nps": 0, "csat": 1.0})))
    assert zeroed.score < health.score


def test_a_zero_answer_is_data_not_a_gap(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    assert values(make_account(usage=make_usage(nps=0)))["nps"] == 0.0


def test_support_load_counts_at_least_ten_seats(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    tiny_team = make_account(seats_purchased=3, seats_used=3, usage=make_usage(active_users=3, support_tickets=1))

    assert values(tiny_team)["support_load"] == pytest.approx(66.7)  # 1 ticket / max(3, 10) seats


def test_values_saturate_at_the_ends(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    account = make_account(seats_purchased=10, seats_used=20, usage=make_usage(logins=2000, support_tickets=500))

    got = values(account)
    assert (got["seat_utilisation"], got["login_frequency"], got["support_load"]) == (100, 100, 0)


def test_no_seats_bought_leaves_utilisation_out_and_no_one_active_scores_zero(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    got = values(make_account(seats_purchased=0, seats_used=0, usage=make_usage(active_users=0, logins=0)))

    assert "seat_utilisation" not in got
    assert (got["active_users"], got["login_frequency"]) == (0, 0)


def test_score_is_the_weighted_sum_rounded_half_up(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    usage = make_usage(active_users=12, logins=150, feature_adoption=0.42, support_tickets=2, nps=6, csat=3.0)
    health = scored(make_account(seats_purchased=25, seats_used=18, usage=usage))

    weighted = sum(c.value * DEFAULT.measures[c.name].weight for c in health.components)  # type: ignore[index]
    assert health.score == math.floor(weighted + 0.5)
    assert 0 < health.score < 100


@pytest.mark.parametrize(
    ("adoption", "band"),
    [(1.0, "green"), (0.70, "green"), (0.695, "green"), (0.69, "yellow"), (0.40, "yellow"), (0.39, "red"), (0, "red")],
)
def test_band_edges_belong_to_the_higher_band(
    make_account: AccountFactory, make_usage: UsageFactory, adoption: float, band: str
) -> None:
    health = scored(make_account(usage=make_usage(feature_adoption=adoption)), ONLY_ADOPTION)

    assert health.band == band
    assert health.score == math.floor(adoption * 100 + 0.5)


def test_custom_thresholds_move_the_bands() -> None:
    strict = Bands(green=85, yellow=60)

    assert [band_for(s, strict) for s in (85, 84, 60, 59)] == ["green", "yellow", "yellow", "red"]
    assert [band_for(s) for s in (70, 69, 40, 39)] == ["green", "yellow", "yellow", "red"]


def test_drivers_rank_by_weighted_deviation_and_say_the_fact_in_plain_words(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    # Impacts |(points - 50) x weight|: active users 12.5, feature adoption 10, login frequency 7.5, support 5 ...
    usage = make_usage(active_users=20, logins=400, feature_adoption=0.0, support_tickets=0, nps=None, csat=None)
    health = scored(make_account(seats_purchased=40, seats_used=20, usage=usage))

    assert [(d.label, d.value, d.direction) for d in health.drivers] == [
        ("active users", 100.0, "up"),
        ("feature adoption", 0.0, "down"),
        ("login frequency", 100.0, "up"),
    ]
    assert health.drivers[0].text == "20 of 20 people with a seat active in the last 30 days"
    assert [d.text for d in health.drags] == ["0% of the key features in use"]
    assert "20 of 40 seats in use" in [d.text for d in health.ranked]
    assert "0 support tickets in the last 30 days" in [d.text for d in health.lifts]


def test_plain_words_for_no_logins_and_per_feature_counts(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    usage = make_usage(logins=0, period_days=14, features={"boards": 4, "automations": 0, "reports": 2})
    texts = {c.name: c.text for c in scored(make_account(usage=usage)).components}

    assert texts["login_frequency"] == "no logins in the last 14 days"
    assert texts["feature_adoption"] == "2 of 3 key features in use"


def test_accounts_get_the_scorecard_their_segment_matches(make_account: AccountFactory) -> None:
    young = make_account(signup_date=TODAY - timedelta(days=30))
    renewing = make_account(renewal_date=TODAY + timedelta(days=45))
    free_renewing = make_account(plan="free", renewal_date=TODAY + timedelta(days=10))

    assert scored(young).scorecard == "onboarding"
    assert scored(renewing).scorecard == "renewal"
    assert scored(free_renewing).scorecard == "default"
    assert scored(make_account()).scorecard == "default"


def test_labels_are_human_words() -> None:
    assert COMPONENT_LABELS["feature_adoption"] == "feature adoption"
    assert all("_" not in label for label in COMPONENT_LABELS.values())


def test_no_usage_yet_is_yellow_with_an_explaining_driver(make_account: AccountFactory) -> None:
    health = scored(make_account(usage=None))

    assert (health.band, health.score, health.components) == ("yellow", 50, [])
    assert [(d.label, d.direction) for d in health.drivers] == [("no usage data yet", "down")]


def test_no_usage_score_stays_inside_custom_yellow_band(make_account: AccountFactory) -> None:
    high_bar = card(dict(DEFAULT.model_dump()["measures"]), bands={"green": 90, "yellow": 60})

    health = score(make_account(usage=None), high_bar, today=TODAY, book=BOOK.model_copy())
    assert health.band == "yellow"
    assert 60 <= health.score < 90


@pytest.mark.parametrize(
    ("current", "previous", "trend"),
    [(60, None, None), (60, 58, "flat"), (60, 62, "flat"), (60, 57, "up"), (60, 63, "down")],
)
def test_trend_is_flat_within_the_tolerance(current: int, previous: int | None, trend: str | None) -> None:
    assert trend_between(current, previous, flat_within=2) == trend
