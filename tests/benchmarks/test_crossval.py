"""The bot's cross-validation: stratified folds, the threshold the product's rule chooses without out-of-scope
examples, and the fallback outcomes as Rasa's FallbackClassifier decides them."""

from collections import Counter

import pytest

from benchmarks.__main__ import _parser
from benchmarks.crossval import (
    HeldOut,
    _fallback_settings,
    _held_out,
    highest_threshold_within,
    outcomes,
    stratified_folds,
)
from nlu.finetune import IntentExample


def test_folds_cover_every_example_once_and_spread_each_intent_evenly() -> None:
    examples = [IntentExample(f"a{i}", "a") for i in range(10)] + [IntentExample(f"b{i}", "b") for i in range(7)]
    folds = stratified_folds(examples, count=5, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(17))
    for fold in folds:
        counts = Counter(examples[i].intent for i in fold)
        assert counts["a"] == 2 and counts["b"] in (1, 2)
    assert stratified_folds(examples, count=5, seed=1) == folds


def _items(*rows: tuple[str, float]) -> list[HeldOut]:
    return [HeldOut("a", intent, confidence, None) for intent, confidence in rows]


def test_the_threshold_is_the_highest_that_costs_at_most_the_budget() -> None:
    # 200 right answers from 0.505 up and 2 wrong ones: 0.5 points is one right answer.
    held = _items(*(("a", 0.505 + i * 0.002) for i in range(200)), ("b", 0.3), ("b", 0.9))
    threshold = highest_threshold_within(held, budget=0.5)
    assert threshold == pytest.approx((0.505 + 0.507) / 2)
    assert highest_threshold_within(held, budget=0.0) == pytest.approx((0.3 + 0.505) / 2)


def test_no_threshold_when_even_the_lowest_costs_too_much() -> None:
    assert highest_threshold_within(_items(("a", 0.2), ("a", 0.9)), budget=0.5) is None


def test_outcomes_apply_the_threshold_and_the_ambiguity_check_like_rasa() -> None:
    held = [
        HeldOut("a", "a", 0.9, 0.1),  # right
        HeldOut("a", "b", 0.8, 0.1),  # wrong
        HeldOut("a", "a", 0.3, 0.1),  # below the threshold
        HeldOut("a", "a", 0.9, 0.85),  # ambiguous
        HeldOut("a", None, 0.0, None),  # nothing predicted
    ]
    assert outcomes(held, 0.4, 0.1) == {"right": 20.0, "wrong": 20.0, "fallback": 60.0}
    assert outcomes(held, None, None) == {"right": 60.0, "wrong": 20.0, "fallback": 20.0}


def test_a_prediction_reads_the_runner_up_from_the_ranking() -> None:
    item = {"intent": "a", "confidence": 0.7, "ranking": [["a", 0.7], ["b", 0.2]]}
    assert _held_out("a", item) == HeldOut("a", "a", 0.7, 0.2)
    assert _held_out("a", {"intent": None, "confidence": 0.0, "ranking": []}) == HeldOut("a", None, 0.0, None)


def test_the_fallback_settings_are_read_from_the_config() -> None:
    config = "pipeline:\n  - name: X\n  - name: FallbackClassifier\n    threshold: 0.6\n    ambiguity_threshold: 0.1\n"
    assert _fallback_settings(config) == (0.6, 0.1)
    assert _fallback_settings("pipeline: []\n") == (None, None)


def test_the_command_needs_the_rasa_environment() -> None:
    args = _parser().parse_args(["crossval", "--rasa-bin", "/x/rasa"])
    assert args.command == "crossval"
