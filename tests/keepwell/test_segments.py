"""Segments: labels, keys and how an account maps to one."""

from collections.abc import Callable
from itertools import product

from keepwell.accounts import Account
from keepwell.segments import COMPANY_SIZES, LIFECYCLE_STAGES, PLANS, Segment, segment_of


def test_label_reads_plan_size_and_stage() -> None:
    assert Segment("growth", "mid", "adoption").label == "Growth · mid-size · adoption"
    assert Segment("enterprise", "large", "renewal").label == "Enterprise · large · renewal"
    assert Segment("free", "small", "onboarding").label == "Free · small · onboarding"


def test_key_is_machine_friendly() -> None:
    assert Segment("growth", "mid", "adoption").key == "growth.mid.adoption"


def test_segment_of_account(make_account: Callable[..., Account]) -> None:
    account = make_account(plan="starter", company_size="small", lifecycle_stage="mature")
    assert segment_of(account) == Segment("starter", "small", "mature")
    assert segment_of(account).label == "Starter · small · mature"


def test_accounts_in_the_same_segment_share_one_key(make_account: Callable[..., Account]) -> None:
    first = segment_of(make_account(id="cus_001", name="A"))
    second = segment_of(make_account(id="cus_002", name="B"))
    assert first == second
    assert {first: 1, second: 2} == {first: 2}


def test_every_combination_has_a_distinct_label_and_key() -> None:
    segments = [Segment(*combo) for combo in product(PLANS, COMPANY_SIZES, LIFECYCLE_STAGES)]
    assert len({s.label for s in segments}) == len(segments)
    assert len({s.key for s in segments}) == len(segments)


def test_unknown_values_are_shown_as_stored() -> None:
    assert Segment("legacy", "huge", "churned").label == "legacy · huge · churned"
