"""Classification, threshold, ranking and latency metrics on hand-computed examples."""

import pytest

from benchmarks.metrics import (
    Prediction,
    choose_threshold,
    decide,
    evaluate,
    latency_summary,
    macro_f1,
    percentile,
    ranking_scores,
    score,
)

OOS = "oos"


def test_score_splits_in_scope_accuracy_from_oos_recall() -> None:
    gold = ["a", "a", "b", "b", OOS, OOS, OOS, OOS]
    predicted = ["a", "b", "b", "b", OOS, "a", OOS, OOS]

    scores = score(gold, predicted, OOS)

    assert scores.in_scope_accuracy == pytest.approx(75.0)
    assert scores.oos_recall == pytest.approx(75.0)
    assert scores.accuracy == pytest.approx(75.0)
    assert scores.count == 8


def test_score_without_oos_queries_reports_no_oos_recall() -> None:
    scores = score(["a", "b"], ["a", OOS], OOS)

    assert scores.oos_recall is None
    assert scores.in_scope_accuracy == pytest.approx(50.0)
    assert scores.accuracy == pytest.approx(50.0)


def test_macro_f1_averages_per_gold_label_and_charges_foreign_predictions() -> None:
    # a: tp 1, fn 1, fp 0 -> 2/3 ; b: tp 1, fn 0, fp 1 -> 2/3 ; c (never gold) is not averaged but cost b nothing
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    # predicting a label absent from gold lowers recall of the gold label only
    assert macro_f1(["a", "a"], ["a", "zzz"]) == pytest.approx(2 / 3)


def test_score_refuses_mismatched_or_empty_input() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        score(["a", "b"], ["a"], OOS)
    with pytest.raises(ValueError, match="nothing"):
        score([], [], OOS)


def test_decide_rejects_below_threshold_and_keeps_predicted_oos() -> None:
    predictions = [Prediction("a", 0.9), Prediction("b", 0.3), Prediction(OOS, 0.95)]

    assert decide(predictions, 0.5, OOS) == ["a", OOS, OOS]
    assert decide(predictions, None, OOS) == ["a", "b", OOS]


def test_choose_threshold_catches_the_most_oos_within_the_in_scope_loss_budget() -> None:
    gold = ["a"] * 200 + [OOS, OOS, OOS]
    # 199 confident right answers, one right answer at 0.35; the oos queries score 0.2, 0.3 and 0.4.
    predictions = [Prediction("a", 0.9)] * 199 + [Prediction("a", 0.35)]
    predictions += [Prediction("a", 0.2), Prediction("a", 0.3), Prediction("a", 0.4)]

    choice = choose_threshold(gold, predictions, OOS, max_in_scope_loss=0.5)

    # Rejecting below 0.65 catches all three oos at the cost of one in-scope answer in 200 (0.5 points): allowed.
    assert choice.threshold == pytest.approx(0.65)
    assert choice.objective == pytest.approx(1.0)
    assert "costs 0.50 points" in choice.reason


def test_choose_threshold_never_spends_more_than_the_budget() -> None:
    gold = ["a"] * 200 + [OOS, OOS, OOS]
    predictions = [Prediction("a", 0.9)] * 199 + [Prediction("a", 0.35)]
    predictions += [Prediction("a", 0.2), Prediction("a", 0.3), Prediction("a", 0.4)]

    choice = choose_threshold(gold, predictions, OOS, max_in_scope_loss=0.4)

    # Losing the 0.35 answer would cost 0.5 points, over 0.4: the best free cut keeps it and catches two of three.
    assert choice.threshold == pytest.approx(0.325)
    assert choice.objective == pytest.approx(2 / 3)
    assert decide(predictions, choice.threshold, OOS)[199] == "a"


def test_choose_threshold_prefers_none_when_rejecting_does_not_help() -> None:
    gold = ["a", "b", OOS]
    predictions = [Prediction("a", 0.2), Prediction("b", 0.3), Prediction(OOS, 0.9)]

    choice = choose_threshold(gold, predictions, OOS)

    assert choice.threshold is None
    assert choice.objective == pytest.approx(1.0)
    assert "no threshold" in choice.reason


def test_choose_threshold_without_oos_in_validation_applies_none() -> None:
    choice = choose_threshold(["a", "b"], [Prediction("a", 0.1), Prediction("a", 0.9)], OOS)

    assert choice.threshold is None
    assert choice.objective is None
    assert "no out-of-scope" in choice.reason


def test_choose_threshold_rejects_tied_confidences_together() -> None:
    gold = ["a", OOS, "a"]
    predictions = [Prediction("a", 0.5), Prediction("a", 0.5), Prediction("a", 0.9)]

    # With a budget of half the in-scope answers, the cut above the tied 0.5s is allowed and catches the oos.
    choice = choose_threshold(gold, predictions, OOS, max_in_scope_loss=50)

    assert choice.threshold == pytest.approx(0.7)
    assert decide(predictions, choice.threshold, OOS) == [OOS, OOS, "a"]
    # Without the budget the tie cannot be split, so nothing is rejected.
    assert choose_threshold(gold, predictions, OOS, max_in_scope_loss=0).threshold is None


def test_choose_threshold_breaks_ties_towards_the_lower_threshold() -> None:
    gold = ["a", OOS, "a"]
    predictions = [Prediction("a", 0.9), Prediction("a", 0.2), Prediction("b", 0.5)]

    # Cuts at 0.35 and 0.7 both catch the oos at no cost (the 0.5 answer is wrong anyway): the lower one wins.
    assert choose_threshold(gold, predictions, OOS).threshold == pytest.approx(0.35)


def test_choose_threshold_rejects_a_negative_budget() -> None:
    with pytest.raises(ValueError, match="negative"):
        choose_threshold(["a", OOS], [Prediction("a", 0.9), Prediction("a", 0.1)], OOS, max_in_scope_loss=-1)


def test_evaluate_scores_test_with_and_without_the_validation_threshold() -> None:
    val_gold = ["a", OOS]
    val_predictions = [Prediction("a", 0.9), Prediction("a", 0.2)]
    test_gold = ["a", OOS, OOS]
    test_predictions = [Prediction("a", 0.8), Prediction("a", 0.1), Prediction("a", 0.95)]

    evaluation = evaluate(val_gold, val_predictions, test_gold, test_predictions, OOS)

    assert evaluation.choice.threshold == pytest.approx(0.55)
    assert evaluation.with_threshold.oos_recall == pytest.approx(50.0)
    assert evaluation.with_threshold.in_scope_accuracy == pytest.approx(100.0)
    assert evaluation.without_threshold.oos_recall == pytest.approx(0.0)


def test_percentiles_use_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert latency_summary([3.0, 1.0, 2.0]) == (2.0, 3.0)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_ranking_scores_top1_recall_and_mrr() -> None:
    rankings = [["x", "y", "z"], ["y", "x", "z"], ["z", "y", "w", "x"], ["y", "z"]]
    gold = ["x", "x", "x", "x"]

    scores = ranking_scores(rankings, gold, k=3)

    assert scores.top1 == pytest.approx(25.0)
    assert scores.recall_at_k == pytest.approx(50.0)
    assert scores.mrr == pytest.approx((1 + 1 / 2 + 1 / 4 + 0) / 4)
