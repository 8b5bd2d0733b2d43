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


def test_choose_threshold_finds_the_cut_that_balances_accuracy_and_recall() -> None:
    gold = ["a", "a", "a", "a", OOS, OOS]
    predictions = [
        Prediction("a", 0.9),
        Prediction("a", 0.8),
        Prediction("a", 0.7),
        Prediction("b", 0.2),  # wrong anyway: rejecting it costs nothing
        Prediction("a", 0.4),
        Prediction("a", 0.3),
    ]

    choice = choose_threshold(gold, predictions, OOS)

    # rejecting everything below 0.7 catches both oos and keeps the three right answers: (0.75 + 1) / 2
    assert choice.threshold == pytest.approx(0.55)
    assert choice.objective == pytest.approx(0.875)
    final = decide(predictions, choice.threshold, OOS)
    assert final == ["a", "a", "a", OOS, OOS, OOS]


def test_choose_threshold_prefers_none_when_rejecting_does_not_help() -> None:
    gold = ["a", "b", OOS]
    predictions = [Prediction("a", 0.2), Prediction("b", 0.3), Prediction(OOS, 0.9)]

    choice = choose_threshold(gold, predictions, OOS)

    assert choice.threshold is None
    assert choice.objective == pytest.approx(1.0)


def test_choose_threshold_without_oos_in_validation_applies_none() -> None:
    choice = choose_threshold(["a", "b"], [Prediction("a", 0.1), Prediction("a", 0.9)], OOS)

    assert choice.threshold is None
    assert choice.objective is None
    assert "no out-of-scope" in choice.reason


def test_choose_threshold_rejects_tied_confidences_together() -> None:
    gold = ["a", OOS, "a"]
    predictions = [Prediction("a", 0.5), Prediction("a", 0.5), Prediction("a", 0.9)]

    choice = choose_threshold(gold, predictions, OOS)

    # a threshold cannot separate the two 0.5s: rejecting both gives (0.5 + 1) / 2, better than none (1 + 0) / 2
    assert choice.threshold == pytest.approx(0.7)
    assert choice.objective == pytest.approx(0.75)
    assert decide(predictions, choice.threshold, OOS) == [OOS, OOS, "a"]


def test_choose_threshold_breaks_ties_towards_no_threshold() -> None:
    gold = ["a", OOS]
    predictions = [Prediction("a", 0.3), Prediction("a", 0.6)]

    # none: (1 + 0) / 2; above 0.6: (0 + 1) / 2, the same, so rejecting nothing wins
    assert choose_threshold(gold, predictions, OOS).threshold is None


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
