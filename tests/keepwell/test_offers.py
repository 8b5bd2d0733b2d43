"""Offer catalogue validation and the recommendation rules."""

import re
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from keepwell.accounts import Account, Usage
from keepwell.health import HealthScore, score
from keepwell.offer_catalogue import HELP_CATEGORIES, CatalogueError, Condition, Offer, load_catalogue
from keepwell.offers import is_eligible, recommend
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS, TOP_PLAN

AccountFactory = Callable[..., Account]
UsageFactory = Callable[..., Usage]
HealthFactory = Callable[..., HealthScore]
OfferFactory = Callable[..., Offer]

SEGMENTS = list(product(PLANS, COMPANY_SIZES, LIFECYCLE_STAGES))
KB_CONTENT = Path(__file__).resolve().parents[2] / "knowledge_base" / "content"


@pytest.fixture(scope="module")
def catalogue() -> list[Offer]:
    return load_catalogue()


# --- the bundled catalogue -------------------------------------------------------------------------------------


def test_bundled_catalogue_is_rich_enough(catalogue: list[Offer]) -> None:
    assert len(catalogue) >= 12
    assert len({o.id for o in catalogue}) == len(catalogue)
    assert {o.kind for o in catalogue} == {"upsell", "cross_sell", "enablement"}
    titles = " ".join(o.title for o in catalogue)
    for add_on in ("Automations Pro", "Advanced Analytics", "Premium Support", "Extra Guests", "Data Residency EU"):
        assert add_on in titles
    assert {o.upgrade_to for o in catalogue if o.is_plan_upgrade} == {"starter", "growth", "enterprise"}


def test_bundled_offers_link_to_existing_help_articles(catalogue: list[Offer]) -> None:
    for offer in catalogue:
        category, slug = offer.url.removeprefix("/help/").split("/")
        assert category in HELP_CATEGORIES, offer.id
        assert (KB_CONTENT / category / f"{slug}.md").is_file(), f"{offer.id}: no article at {offer.url}"


def test_add_ons_are_offered_only_where_the_help_centre_sells_them(catalogue: list[Offer]) -> None:
    # knowledge_base/content/billing/add-ons.md: which plans can buy each add-on (Enterprise includes the rest).
    sold_on = {
        "addon-automations-pro": {"starter", "growth"},
        "addon-advanced-analytics": {"growth", "enterprise"},
        "addon-premium-support": {"growth"},
        "addon-extra-guests": {"starter", "growth"},
        "addon-data-residency-eu": {"growth"},
    }
    offers = {o.id: o for o in catalogue}
    assert {offer_id: set(offers[offer_id].eligibility.plans) for offer_id in sold_on} == sold_on


# --- the rules no catalogue can override -----------------------------------------------------------------------


@pytest.mark.parametrize(("plan", "size", "stage"), SEGMENTS)
def test_red_accounts_only_ever_get_enablement(
    catalogue: list[Offer],
    make_account: AccountFactory,
    make_usage: UsageFactory,
    plan: str,
    size: str,
    stage: str,
) -> None:
    # Usage that would qualify for almost everything: full seats, heavy tickets, high adoption.
    usage = make_usage(feature_adoption=0.9, support_tickets=30, active_users=12)
    account = make_account(plan=plan, company_size=size, lifecycle_stage=stage, seats_used=20, usage=usage)
    red = HealthScore(score=30, band="red")

    recommendation = recommend(account, red, catalogue, limit=10)

    assert recommendation.offers, "a red account still deserves help"
    assert {o.kind for o in recommendation.offers} == {"enablement"}
    assert "red" in recommendation.reason


def test_red_guard_holds_even_for_an_offer_that_lists_red(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    # Built directly (load_catalogue refuses this), so only recommend() stands in the way.
    rogue = [make_offer("rogue-upsell", "upsell", bands=["red"]), make_offer("rogue-addon", "cross_sell")]

    assert recommend(make_account(), make_health("red"), rogue).offers == []
    assert not any(is_eligible(o, make_account(), make_health("red")) for o in rogue)


@pytest.mark.parametrize(("size", "stage"), list(product(COMPANY_SIZES, LIFECYCLE_STAGES)))
@pytest.mark.parametrize("band", ["green", "yellow"])
def test_top_plan_never_gets_a_plan_upgrade(
    catalogue: list[Offer],
    make_account: AccountFactory,
    make_health: HealthFactory,
    size: str,
    stage: str,
    band: str,
) -> None:
    account = make_account(plan=TOP_PLAN, company_size=size, lifecycle_stage=stage, seats_used=20)

    offers = recommend(account, make_health(band), catalogue, limit=len(catalogue)).offers

    assert not any(o.is_plan_upgrade for o in offers)


def test_upgrade_guard_holds_even_for_an_offer_open_to_every_plan(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    to_enterprise = make_offer("to-enterprise", "upsell", upgrade_to="enterprise")
    to_growth = make_offer("to-growth", "upsell", upgrade_to="growth")

    assert not is_eligible(to_enterprise, make_account(plan="enterprise"), make_health("green"))
    assert not is_eligible(to_growth, make_account(plan="enterprise"), make_health("green")), "a downgrade"
    assert not is_eligible(to_growth, make_account(plan="growth"), make_health("green")), "the same plan"
    assert is_eligible(to_growth, make_account(plan="starter"), make_health("green"))


@pytest.mark.parametrize(("size", "stage"), list(product(COMPANY_SIZES, LIFECYCLE_STAGES)))
@pytest.mark.parametrize("band", ["green", "yellow"])
def test_free_plan_gets_an_upgrade_offer(
    catalogue: list[Offer],
    make_account: AccountFactory,
    make_health: HealthFactory,
    size: str,
    stage: str,
    band: str,
) -> None:
    account = make_account(plan="free", company_size=size, lifecycle_stage=stage, seats_purchased=5, seats_used=3)

    offers = recommend(account, make_health(band), catalogue).offers

    assert [o.upgrade_to for o in offers if o.is_plan_upgrade] in (["starter"], ["growth"])


# --- eligibility and conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("seats_used", "offered"), [(18, True), (20, True), (17, False)])
def test_add_seats_needs_ninety_percent_utilisation(
    catalogue: list[Offer], make_account: AccountFactory, make_health: HealthFactory, seats_used: int, offered: bool
) -> None:
    add_seats = next(o for o in catalogue if o.id == "add-seats")
    account = make_account(seats_purchased=20, seats_used=seats_used)

    assert is_eligible(add_seats, account, make_health("green")) is offered


@pytest.mark.parametrize(("adoption", "offered"), [(0.2, True), (0.39, True), (0.4, False), (0.8, False)])
def test_views_and_fields_only_for_low_adoption(
    catalogue: list[Offer],
    make_account: AccountFactory,
    make_usage: UsageFactory,
    make_health: HealthFactory,
    adoption: float,
    offered: bool,
) -> None:
    views = next(o for o in catalogue if o.id == "views-and-fields")
    account = make_account(usage=make_usage(feature_adoption=adoption))

    assert is_eligible(views, account, make_health("yellow")) is offered


def test_conditions_on_usage_fail_without_usage(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    low_adoption = make_offer("tour", "enablement", conditions=[("feature_adoption", "<", 0.4)])
    high_seats = make_offer("seats", "upsell", conditions=[("seat_utilisation", ">=", 0.9)])
    account = make_account(usage=None)

    assert not is_eligible(low_adoption, account, make_health("yellow"))
    assert is_eligible(high_seats, account, make_health("yellow")), "seat use is known without usage data"


def test_every_dimension_must_match(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    offer = make_offer(plans=["growth"], company_sizes=["mid"], lifecycle_stages=["adoption"], bands=["green"])

    assert is_eligible(offer, make_account(), make_health("green"))
    assert not is_eligible(offer, make_account(plan="starter"), make_health("green"))
    assert not is_eligible(offer, make_account(company_size="large"), make_health("green"))
    assert not is_eligible(offer, make_account(lifecycle_stage="mature"), make_health("green"))
    assert not is_eligible(offer, make_account(), make_health("yellow"))


def test_health_score_condition(make_account: AccountFactory, make_offer: OfferFactory) -> None:
    check_in = make_offer("check-in", "enablement", conditions=[("health_score", "<", 60)])

    assert is_eligible(check_in, make_account(), HealthScore(score=59, band="yellow"))
    assert not is_eligible(check_in, make_account(), HealthScore(score=60, band="yellow"))


def test_condition_reads_back_as_written() -> None:
    assert str(Condition("seat_utilisation", ">=", 0.9)) == "seat_utilisation >= 0.9"


# --- ranking ---------------------------------------------------------------------------------------------------


def test_green_leads_with_an_upsell_and_mixes_kinds(catalogue: list[Offer], make_account: AccountFactory) -> None:
    account = make_account(
        plan="starter", company_size="mid", lifecycle_stage="onboarding", seats_purchased=20, seats_used=19
    )
    health = score(account)
    assert health.band == "green"

    offers = recommend(account, health, catalogue).offers

    # The best of each kind: adding seats (two conditions) beats the plan upgrade (one).
    assert [o.kind for o in offers] == ["upsell", "cross_sell", "enablement"]
    assert [o.id for o in offers] == ["add-seats-starter", "addon-automations-pro", "getting-started-checklist"]


def test_starter_near_its_seat_limit_is_offered_growth_not_more_seats(
    catalogue: list[Offer], make_account: AccountFactory, make_health: HealthFactory
) -> None:
    account = make_account(plan="starter", seats_purchased=48, seats_used=47)

    offers = recommend(account, make_health("green"), catalogue, limit=len(catalogue)).offers

    ids = [o.id for o in offers]
    assert "upgrade-starter-seat-limit" in ids
    assert "add-seats-starter" not in ids
    assert sum(o.is_plan_upgrade for o in offers) == 1


def test_yellow_leads_with_enablement(
    catalogue: list[Offer], make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    usage = make_usage(active_users=9, logins=90, feature_adoption=0.3, support_tickets=2, nps=5, csat=3.0)
    account = make_account(plan="growth", seats_purchased=20, seats_used=15, usage=usage)
    health = score(account)
    assert health.band == "yellow"

    recommendation = recommend(account, health, catalogue)

    assert recommendation.offers[0].kind == "enablement"
    assert recommendation.offers[0].id == "csm-check-in"  # priority: a person first when health is low
    assert "yellow" in recommendation.reason


def test_at_most_one_plan_upgrade(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    offers = [
        make_offer("to-starter", "upsell", upgrade_to="starter", plans=["free"]),
        make_offer("to-growth", "upsell", upgrade_to="growth", plans=["free"], conditions=[("seats_used", ">=", 1)]),
        make_offer("guests", "cross_sell"),
    ]

    chosen = recommend(make_account(plan="free"), make_health("green"), offers).offers

    assert [o.id for o in chosen] == ["to-growth", "guests"]


def test_more_targeted_offers_rank_first_and_ties_keep_catalogue_order(
    make_account: AccountFactory, make_health: HealthFactory, make_offer: OfferFactory
) -> None:
    offers = [
        make_offer("generic-a"),
        make_offer("generic-b"),
        make_offer("for-growth", plans=["growth"]),
        make_offer("for-busy-growth", plans=["growth"], conditions=[("seat_utilisation", ">=", 0.5)]),
        make_offer("boosted", priority=5),
    ]

    chosen = recommend(make_account(), make_health("green"), offers, limit=5).offers

    assert [o.id for o in chosen] == ["boosted", "for-busy-growth", "for-growth", "generic-a", "generic-b"]


def test_limit_and_determinism(
    catalogue: list[Offer], make_account: AccountFactory, make_health: HealthFactory
) -> None:
    account = make_account(plan="growth", company_size="large", lifecycle_stage="renewal", seats_used=20)

    first = recommend(account, make_health("green"), catalogue, limit=2)
    again = recommend(account, make_health("green"), list(catalogue), limit=2)

    assert len(first.offers) == 2
    assert first == again
    assert recommend(account, make_health("green"), catalogue, limit=0).offers == []


def test_reason_says_when_nothing_fits(make_account: AccountFactory, make_health: HealthFactory) -> None:
    recommendation = recommend(make_account(), make_health("green"), [])

    assert recommendation.offers == []
    assert "No catalogue offer fits" in recommendation.reason


def test_red_reason_names_the_main_concern(
    catalogue: list[Offer], make_account: AccountFactory, make_usage: UsageFactory
) -> None:
    usage = make_usage(active_users=4, logins=20, feature_adoption=0.1, support_tickets=5, nps=2, csat=2.0)
    account = make_account(seats_purchased=20, seats_used=18, usage=usage)
    health = score(account)
    assert health.band == "red"

    reason = recommend(account, health, catalogue).reason

    assert "no upgrades or add-ons" in reason
    assert f"The main concern is {health.drivers[0].label}." in reason


# --- catalogue validation --------------------------------------------------------------------------------------


def test_a_valid_file_loads_into_offers(write_catalogue: Callable[[Any], Path], offer_entry: Callable) -> None:
    entry = offer_entry(eligible={"plans": ["growth"], "bands": ["green"], "when": ["feature_adoption >= 0.5"]})

    [offer] = load_catalogue(write_catalogue({"offers": [entry]}))

    assert offer.id == "addon-test"
    assert offer.eligibility.plans == ("growth",)
    assert offer.eligibility.company_sizes == COMPANY_SIZES  # omitted means any
    assert offer.eligibility.conditions == (Condition("feature_adoption", ">=", 0.5),)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "discount"}, "offer #1 (addon-test) kind: Input should be 'upsell', 'cross_sell' or 'enablement'"),
        ({"url": "/help/pricing/plans"}, "offer #1 (addon-test) url: url '/help/pricing/plans' is not"),
        ({"url": "https://example.test/x"}, "is not /help/<category>/<article-slug>"),
        ({"pitch": "One. Two. Three."}, "pitch must be one or two sentences"),
        ({"pitch": "No full stop"}, "pitch must be one or two sentences"),
        ({"title": ""}, "offer #1 (addon-test) title"),
        ({"id": "Not A Slug"}, "offer #1 (Not A Slug) id: String should match pattern"),
        ({"colour": "blue"}, "offer #1 (addon-test) colour: Extra inputs are not permitted"),
        ({"priority": 11}, "priority"),
        ({"eligible": {"plans": ["platinum"]}}, "eligible.plans: unknown plans ['platinum']"),
        ({"eligible": {"bands": []}}, "an empty bands list matches nobody"),
        ({"eligible": {"company_sizes": ["huge"]}}, "unknown company sizes ['huge']"),
        ({"eligible": {"bands": ["green", "red"]}}, "cross_sell offers may not target red accounts"),
        ({"eligible": {}}, "cross_sell offers may not target red accounts"),  # no bands means any, red included
        ({"eligible": {"bands": ["green"], "when": ["mood > 3"]}}, "unknown metric 'mood'"),
        ({"eligible": {"bands": ["green"], "when": ["seat_utilisation = 1"]}}, "is not '<metric> <op> <number>'"),
        ({"upgrade_to": "growth"}, "only upsell offers may set upgrade_to"),
        (
            {
                "kind": "upsell",
                "upgrade_to": "growth",
                "eligible": {"plans": ["starter", "growth"], "bands": ["green"]},
            },
            "upgrade_to 'growth' is not above eligible plans ['growth']",
        ),
        ({"kind": "upsell", "upgrade_to": "platinum"}, "upgrade_to 'platinum' is not a plan"),
        ({"add_on": "Automations Pro"}, "offer #1 (addon-test) add_on: String should match pattern"),
        ({"kind": "enablement", "add_on": "training"}, "only cross_sell offers may set add_on"),
    ],
)
def test_invalid_offers_are_refused_with_a_clear_message(
    write_catalogue: Callable[[Any], Path], offer_entry: Callable, overrides: dict, message: str
) -> None:
    path = write_catalogue({"offers": [offer_entry(**overrides)]})

    with pytest.raises(CatalogueError, match=re.escape(message)) as error:
        load_catalogue(path)
    assert str(path) in str(error.value)


def test_an_enablement_offer_may_target_red(write_catalogue: Callable[[Any], Path], offer_entry: Callable) -> None:
    entry = offer_entry(kind="enablement", eligible={"bands": ["red"]})

    assert load_catalogue(write_catalogue({"offers": [entry]}))[0].eligibility.bands == ("red",)


def test_duplicate_ids_are_refused(write_catalogue: Callable[[Any], Path], offer_entry: Callable) -> None:
    path = write_catalogue({"offers": [offer_entry(), offer_entry(title="Again")]})

    with pytest.raises(CatalogueError, match=re.escape("duplicate offer ids ['addon-test']")):
        load_catalogue(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("offers: [unclosed", "is not valid YAML"),
        ("", "Input should be a valid dictionary"),
        ({"offers": []}, "offers: List should have at least 1 item"),
        ({"offer": []}, "offers: Field required"),
        ({"offers": ["just a string"]}, "offer #1: Input should be a valid dictionary"),
    ],
)
def test_malformed_files_are_refused(write_catalogue: Callable[[Any], Path], content: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        load_catalogue(write_catalogue(content))


def test_missing_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"cannot read offer catalogue .*missing\.yml"):
        load_catalogue(tmp_path / "missing.yml")
