"""Scores for intent classifiers with out-of-scope rejection, for rankings, and for latencies.

A classifier answers each query with its best label and a confidence. With a threshold, a query counts as
out-of-scope when the best label is the out-of-scope label or the confidence is below the threshold (Larson et al.
2019 combine oos-train and oos-threshold this way). The threshold is chosen on validation, never on test.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A support bot that says "I don't know" to a question it could answer loses more than one that tries to answer an
# off-topic question, so rejection may cost only this much in-scope accuracy on validation.
MAX_IN_SCOPE_LOSS = 0.5
THRESHOLD_CRITERION = (
    f"the highest out-of-scope recall on validation that costs at most {MAX_IN_SCOPE_LOSS} points of in-scope "
    "accuracy there"
)


@dataclass(frozen=True)
class Prediction:
    """A classifier's best label for one query (never Rasa's `nlu_fallback`) and its confidence."""

    label: str
    confidence: float


@dataclass(frozen=True)
class Scores:
    """Percentages in [0, 100]; `in_scope_accuracy` and `oos_recall` are None when gold has no query of that kind.

    `accuracy` is over every query, out-of-scope ones included; `macro_f1` averages F1 over the gold labels.
    """

    accuracy: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    macro_f1: float
    count: int


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold chosen on validation (None: reject nothing) and the criterion's value there, in [0, 1]."""

    threshold: float | None
    objective: float | None
    reason: str

    @property
    def note(self) -> str:
        """One sentence for a report: why this threshold, and what it caught on validation."""
        if self.objective is None:
            return f"Threshold: {self.reason}."
        return f"Threshold: {self.reason} (out-of-scope recall on validation {100 * self.objective:.2f}%)."


@dataclass(frozen=True)
class Evaluation:
    """Test scores with the validation-chosen threshold and without any threshold."""

    choice: ThresholdChoice
    with_threshold: Scores
    without_threshold: Scores


def decide(predictions: Sequence[Prediction], threshold: float | None, oos_label: str) -> list[str]:
    """The final label of each query: `oos_label` when predicted so or (with a threshold) when below it."""
    return [oos_label if threshold is not None and p.confidence < threshold else p.label for p in predictions]


def score(gold: Sequence[str], predicted: Sequence[str], oos_label: str) -> Scores:
    """Accuracy, in-scope accuracy, out-of-scope recall and macro F1 (over gold labels), as percentages.

    Raises:
        ValueError: the sequences differ in length or are empty.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to score")
    correct = [g == p for g, p in zip(gold, predicted, strict=True)]
    in_scope = [c for g, c in zip(gold, correct, strict=True) if g != oos_label]
    oos = [c for g, c in zip(gold, correct, strict=True) if g == oos_label]
    return Scores(
        accuracy=100 * sum(correct) / len(correct),
        in_scope_accuracy=100 * sum(in_scope) / len(in_scope) if in_scope else None,
        oos_recall=100 * sum(oos) / len(oos) if oos else None,
        macro_f1=100 * macro_f1(gold, predicted),
        count=len(gold),
    )


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over the labels that occur in `gold`, in [0, 1]; predicting other labels costs precision."""
    true_positives: Counter[str] = Counter()
    false_positives: Counter[str] = Counter()
    false_negatives: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_positives[g] += 1
        else:
            false_negatives[g] += 1
            false_positives[p] += 1
    labels = set(gold)
    if not labels:
        raise ValueError("no gold labels")
    f1 = [
        2 * true_positives[label] / (2 * true_positives[label] + false_positives[label] + false_negatives[label])
        for label in labels
    ]
    return sum(f1) / len(f1)


def choose_threshold(
    gold: Sequence[str], predictions: Sequence[Prediction], oos_label: str, max_in_scope_loss: float = MAX_IN_SCOPE_LOSS
) -> ThresholdChoice:
    """The confidence threshold with the highest out-of-scope recall on `gold` among those that lose at most
    `max_in_scope_loss` points of in-scope accuracy against no threshold.

    Every distinct confidence is tried (as the midpoint below it), plus no threshold; among equal recalls the lowest
    threshold wins, so nothing is rejected that need not be. Without out-of-scope queries in `gold` a threshold can
    only hurt, so none is chosen. `objective` is the out-of-scope recall on `gold`, in [0, 1].
    """
    if len(gold) != len(predictions):
        raise ValueError(f"{len(gold)} gold labels but {len(predictions)} predictions")
    if max_in_scope_loss < 0:
        raise ValueError("max_in_scope_loss must not be negative")
    is_oos = np.array([g == oos_label for g in gold], dtype=bool)
    if not is_oos.any():
        return ThresholdChoice(None, None, "validation has no out-of-scope queries, so no threshold is applied")
    if is_oos.all():
        raise ValueError("validation has only out-of-scope queries; a threshold needs in-scope ones too")
    confidence = np.array([p.confidence for p in predictions], dtype=np.float64)
    predicted_oos = np.array([p.label == oos_label for p in predictions], dtype=bool)
    right_in_scope = np.array([g == p.label for g, p in zip(gold, predictions, strict=True)], dtype=bool) & ~is_oos
    # Sorted by confidence, a threshold t rejects exactly the prefix with confidence < t.
    order = np.argsort(confidence, kind="stable")
    confidence = confidence[order]
    lost_in_scope = np.concatenate([[0], np.cumsum(right_in_scope[order])])
    caught_oos = np.concatenate([[0], np.cumsum((is_oos & ~predicted_oos)[order])])
    distinct = np.unique(confidence)
    cut = np.searchsorted(confidence, distinct, side="left")  # rejected prefix length for t = each distinct value
    in_scope_total, oos_total = int((~is_oos).sum()), int(is_oos.sum())
    # Counts, not percentages, decide feasibility, so float rounding cannot let one extra loss through.
    lost = lost_in_scope[cut]
    allowed = math.floor(max_in_scope_loss / 100 * in_scope_total + 1e-9)
    caught = (is_oos & predicted_oos).sum() + caught_oos[cut]
    recall = np.where(lost <= allowed, caught, -1)
    best = int(np.argmax(recall))  # the first maximum: the lowest threshold; index 0 rejects nothing
    objective = float(recall[best] / oos_total)
    if best == 0:
        reason = f"no threshold that costs at most {max_in_scope_loss} points of in-scope accuracy catches more"
        return ThresholdChoice(None, objective, reason + " out-of-scope queries on validation")
    threshold = float((distinct[best - 1] + distinct[best]) / 2)
    loss = 100 * int(lost[best]) / in_scope_total
    reason = f"{THRESHOLD_CRITERION.replace('the ', 'gives the ', 1)}; it costs {loss:.2f} points there"
    return ThresholdChoice(threshold, objective, reason)


def evaluate(
    val_gold: Sequence[str],
    val_predictions: Sequence[Prediction],
    test_gold: Sequence[str],
    test_predictions: Sequence[Prediction],
    oos_label: str,
) -> Evaluation:
    """Choose the threshold on validation, then score test with it and without any threshold."""
    choice = choose_threshold(val_gold, val_predictions, oos_label)
    return Evaluation(
        choice=choice,
        with_threshold=score(test_gold, decide(test_predictions, choice.threshold, oos_label), oos_label),
        without_threshold=score(test_gold, decide(test_predictions, None, oos_label), oos_label),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in (0, 100]): the smallest value with at least q% of values at or below it."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def latency_summary(milliseconds: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) of per-query latencies."""
    return percentile(milliseconds, 50), percentile(milliseconds, 95)


@dataclass(frozen=True)
class RankingScores:
    """Top-1 accuracy and recall@k as percentages; MRR in [0, 1] (a miss counts as 0)."""

    top1: float
    recall_at_k: float
    mrr: float
    k: int
    count: int


def ranking_scores(rankings: Sequence[Sequence[str]], gold: Sequence[str], k: int = 3) -> RankingScores:
    """Score ranked answers (best first) against the single right answer of each query."""
    if len(rankings) != len(gold):
        raise ValueError(f"{len(gold)} gold answers but {len(rankings)} rankings")
    if not gold:
        raise ValueError("nothing to score")
    ranks = [
        list(ranking).index(answer) + 1 if answer in ranking else None
        for ranking, answer in zip(rankings, gold, strict=True)
    ]
    found = [rank for rank in ranks if rank is not None]
    return RankingScores(
        top1=100 * sum(rank == 1 for rank in found) / len(ranks),
        recall_at_k=100 * sum(rank <= k for rank in found) / len(ranks),
        mrr=sum(1 / rank for rank in found) / len(ranks),
        k=k,
        count=len(ranks),
    )
