"""Health scorecard: component maths, weighting, bands, drivers and the no-usage rule."""

import math
from collections.abc import Callable

import pytest

from keepwell.accounts import Account, Usage
from keepwell.health import COMPONENT_LABELS, DEFAULT_SCORECARD, Scorecard, band_for, score

AccountFactory = Callable[..., Account]
UsageFactory = Callable[..., Usage]

ONLY_ADOPTION = Scorecard(weights={"feature_adoption": 1.0})


def values(account: Account, scorecard: Scorecard = DEFAULT_SCORECARD) -> dict[str, float]:
    return {c.name: c.value for c in score(account, scorecard).components}


def test_perfect_usage_scores_100_green(make_account: AccountFactory) -> None:
    health = score(make_account())

    assert health.score == 100
    assert health.band == "green"
    assert [c.name for c in health.components] == list(COMPONENT_LABELS)
    assert all(c.value == 100 for c in health.components)


def test_component_values_follow_the_documented_formulas(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    usage = make_usage(active_users=10, logins=100, feature_adoption=0.35, support_tickets=3, nps=8, csat=4.0)
    account = make_account(seats_purchased=20, seats_used=15, usage=usage)

    assert values(account) == {
        "active_users": pytest.approx(66.7),  # 10 of 15 seat holders
        "seat_utilisation": 75.0,  # 15 of 20 seats
        "feature_adoption": 35.0,
        "login_frequency": 50.0,  # 10 logins per active user, full at 20
        "support_load": pytest.approx(33.3),  # 3 tickets / 15 seats = 0.2 of the 0.3 ceiling
        "sentiment": 77.5,  # NPS 8 -> 80, CSAT 4 -> 75
    }


@pytest.mark.parametrize(
    ("nps", "csat", "expected"),
    [(None, None, 50.0), (7, None, 70.0), (None, 2.0, 25.0), (0, 1.0, 0.0), (10, 5.0, 100.0)],
)
def test_sentiment_uses_what_was_answered_and_is_neutral_without_answers(
    make_account: AccountFactory, make_usage: UsageFactory, nps: int | None, csat: float | None, expected: float
) -> None:
    assert values(make_account(usage=make_usage(nps=nps, csat=csat)))["sentiment"] == expected


def test_support_load_counts_at_least_ten_seats(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    tiny_team = make_account(seats_purchased=3, seats_used=3, usage=make_usage(active_users=3, support_tickets=1))

    # 1 ticket / max(3, 10) seats = 0.1 tickets per seat, a third of the way to 0.
    assert values(tiny_team)["support_load"] == pytest.approx(66.7)


def test_values_saturate_at_the_ends(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    account = make_account(
        seats_purchased=10,
        seats_used=20,  # over-assigned
        usage=make_usage(logins=2000, support_tickets=500),  # 100 logins per user; far beyond the ticket ceiling
    )

    got = values(account)
    assert got["seat_utilisation"] == 100
    assert got["login_frequency"] == 100
    assert got["support_load"] == 0


def test_no_active_users_or_seats_does_not_divide_by_zero(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    account = make_account(seats_purchased=0, seats_used=0, usage=make_usage(active_users=0, logins=0))

    got = values(account)
    assert got["active_users"] == 0
    assert got["seat_utilisation"] == 0
    assert got["login_frequency"] == 0


def test_score_is_the_weighted_sum_rounded_half_up(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    usage = make_usage(active_users=12, logins=150, feature_adoption=0.42, support_tickets=2, nps=6, csat=None)
    health = score(make_account(seats_purchased=25, seats_used=18, usage=usage))

    weighted = sum(c.value * DEFAULT_SCORECARD.weights[c.name] for c in health.components)
    assert health.score == math.floor(weighted + 0.5)
    assert 0 < health.score < 100


@pytest.mark.parametrize(
    ("adoption", "band"),
    [
        (1.0, "green"),
        (0.70, "green"),
        (0.695, "green"),
        (0.69, "yellow"),
        (0.40, "yellow"),
        (0.39, "red"),
        (0.0, "red"),
    ],
)
def test_band_edges_belong_to_the_higher_band(
    make_account: AccountFactory, make_usage: UsageFactory, adoption: float, band: str
) -> None:
    health = score(make_account(usage=make_usage(feature_adoption=adoption)), ONLY_ADOPTION)

    assert health.band == band
    assert health.score == math.floor(adoption * 100 + 0.5)


def test_custom_thresholds_move_the_bands() -> None:
    strict = Scorecard(weights=DEFAULT_SCORECARD.weights, green_at=85, yellow_at=60)

    assert [band_for(s, strict) for s in (85, 84, 60, 59)] == ["green", "yellow", "yellow", "red"]
    assert [band_for(s) for s in (70, 69, 40, 39)] == ["green", "yellow", "yellow", "red"]


def test_default_weights_cover_every_component_and_sum_to_one() -> None:
    assert set(DEFAULT_SCORECARD.weights) == set(COMPONENT_LABELS)
    assert math.isclose(sum(DEFAULT_SCORECARD.weights.values()), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": {"active_users": 0.5, "sentiment": 0.4}}, "sum to 1"),
        ({"weights": {"active_users": 0.6, "sentiment": 0.6}}, "sum to 1"),
        ({"weights": {"active_users": 1.0, "karma": 0.0}}, "unknown scorecard components"),
        ({"weights": {"active_users": 1.5, "sentiment": -0.5}}, "must not be negative"),
        ({"weights": {"active_users": 1.0}, "green_at": 40, "yellow_at": 70}, "thresholds"),
        ({"weights": {"active_users": 1.0}, "green_at": 101}, "thresholds"),
        ({"weights": {"active_users": 1.0}, "yellow_at": 0}, "thresholds"),
    ],
)
def test_invalid_scorecards_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scorecard(**kwargs)


def test_missing_components_weigh_nothing_but_are_reported(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    health = score(make_account(usage=make_usage(feature_adoption=0.5, nps=0, csat=1.0)), ONLY_ADOPTION)

    assert health.score == 50  # sentiment 0 weighs nothing here
    assert {c.name: c.weight for c in health.components}["sentiment"] == 0


def test_scorecard_keeps_its_own_copy_of_the_weights() -> None:
    weights = {"feature_adoption": 1.0}
    scorecard = Scorecard(weights=weights)
    weights["feature_adoption"] = 5.0

    assert scorecard.weights == {"feature_adoption": 1.0}


def test_drivers_are_the_three_largest_weighted_deviations(
    make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    # Impacts |(value - 50) x weight|: active users 12.5, feature adoption 10, login frequency 7.5,
    # support load 5, seat utilisation 0, sentiment 0.
    usage = make_usage(active_users=20, logins=400, feature_adoption=0.0, support_tickets=0, nps=None, csat=None)
    health = score(make_account(seats_purchased=40, seats_used=20, usage=usage))

    assert [(d.label, d.value, d.direction) for d in health.drivers] == [
        ("active users", 100.0, "up"),
        ("feature adoption", 0.0, "down"),
        ("login frequency", 100.0, "up"),
    ]


def test_weights_change_which_components_drive(make_account: AccountFactory, make_usage: UsageFactory) -> None:
    usage = make_usage(active_users=20, logins=400, feature_adoption=0.0, support_tickets=0, nps=None, csat=None)
    account = make_account(seats_purchased=40, seats_used=20, usage=usage)
    support_heavy = Scorecard(weights={"support_load": 0.7, "feature_adoption": 0.1, "active_users": 0.2})

    assert [d.label for d in score(account, support_heavy).drivers] == [
        "support load",
        "active users",
        "feature adoption",
    ]


def test_equal_impacts_keep_the_documented_order(make_account: AccountFactory) -> None:
    equal = Scorecard(weights=dict.fromkeys(COMPONENT_LABELS, 1 / 6))

    assert [d.label for d in score(make_account(), equal).drivers] == [
        "active users",
        "seat utilisation",
        "feature adoption",
    ]


def test_labels_are_human_words() -> None:
    assert COMPONENT_LABELS["feature_adoption"] == "feature adoption"
    assert all("_" not in label for label in COMPONENT_LABELS.values())


def test_no_usage_yet_is_yellow_with_an_explaining_driver(make_account: AccountFactory) -> None:
    health = score(make_account(usage=None))

    assert health.band == "yellow"
    assert health.score == 50
    assert health.components == []
    assert [(d.label, d.direction) for d in health.drivers] == [("no usage data yet", "down")]


def test_no_usage_score_stays_inside_custom_yellow_band(make_account: AccountFactory) -> None:
    high_bar = Scorecard(weights=DEFAULT_SCORECARD.weights, green_at=90, yellow_at=60)

    health = score(make_account(usage=None), high_bar)

    assert health.band == "yellow"
    assert band_for(health.score, high_bar) == "yellow"
