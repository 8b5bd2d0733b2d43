"""The out-of-scope robustness benchmark: the shipped NLU pipeline beside a nearest-neighbour baseline on small
intent datasets with no out-of-scope training data (`../shared/datasets/oos-robustness/`).

Each dataset's validation and test splits hold in-scope queries, in-domain out-of-scope queries (held-out intents of
the same domain, ID-OOS) and out-of-domain ones (OOD-OOS); `<split>_id_oos.csv` and `<split>_ood_oos.csv` say which
is which. One threshold on each system's score is chosen on validation by each of two rules (the one maximising MCC,
and the product's operating rule, `metrics.choose_threshold`); test is scored with in-scope accuracy, out-of-scope
recall overall and per kind, and Matthews' correlation over every test query with out-of-scope as one more class.
"""

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import DEFAULT_OOS_LABEL, Dataset, DatasetError, Example, load_csv_folder, read_csv, smoke_subset
from .metrics import MAX_IN_SCOPE_LOSS, THRESHOLD_CRITERION, Prediction, ThresholdChoice, choose_threshold, decide

OOS_FOLDER = "oos-robustness"
OOS_DATASETS = ("clinc-banking", "clinc-credit-cards", "banking77-oos")
IN_SCOPE, ID_OOS, OOD_OOS = "in-scope", "id-oos", "ood-oos"
MCC_RULE = "max-MCC threshold"
OPERATING_RULE = f"{MAX_IN_SCOPE_LOSS}-point rule"
RULES = (MCC_RULE, OPERATING_RULE)
RULE_DESCRIPTIONS = {
    MCC_RULE: "the threshold with the highest MCC on validation (the lowest one among equals)",
    OPERATING_RULE: f"the product's operating rule: {THRESHOLD_CRITERION}",
}


@dataclass(frozen=True)
class OosDataset:
    """A dataset whose validation and test queries each carry a kind: in-scope, ID-OOS or OOD-OOS."""

    dataset: Dataset
    val_kinds: list[str]
    test_kinds: list[str]

    def kinds(self, split: str) -> list[str]:
        """The kind of each query of "val" or "test", in order."""
        return {"val": self.val_kinds, "test": self.test_kinds}[split]

    def counts(self, split: str) -> str:
        """E.g. "500 in-scope / 350 ID-OOS / 1,000 OOD-OOS"."""
        counted = Counter(self.kinds(split))
        return " / ".join(f"{counted[kind]:,} {kind.upper().replace('IN-SCOPE', 'in-scope')}" for kind in _KINDS)


_KINDS = (IN_SCOPE, ID_OOS, OOD_OOS)


def load_oos_dataset(spec: str, datasets_root: Path, oos_label: str = DEFAULT_OOS_LABEL) -> OosDataset:
    """An oos-robustness dataset by name (under `<datasets_root>/oos-robustness/`) or by folder.

    The folder holds train.csv, val.csv and test.csv, plus val_id_oos.csv, val_ood_oos.csv, test_id_oos.csv and
    test_ood_oos.csv naming the out-of-scope queries of each kind. Files are read where they are, never copied.

    Raises:
        DatasetError: a file is missing or malformed, or an out-of-scope query is in neither kind's file.
    """
    folder = Path(datasets_root) / OOS_FOLDER / spec if spec in OOS_DATASETS else Path(spec)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder (expected one of {', '.join(OOS_DATASETS)} or a folder)")
    if not (folder / "val.csv").is_file():
        raise DatasetError(f"{folder / 'val.csv'} not found: thresholds are chosen on validation, never on test")
    dataset = load_csv_folder(folder, oos_label)
    return OosDataset(
        dataset,
        _query_kinds(folder, "val", dataset.val, oos_label),
        _query_kinds(folder, "test", dataset.test, oos_label),
    )


def _query_kinds(folder: Path, split: str, examples: Sequence[Example], oos_label: str) -> list[str]:
    id_texts = {example.text for example in read_csv(folder / f"{split}_id_oos.csv")}
    ood_texts = {example.text for example in read_csv(folder / f"{split}_ood_oos.csv")}
    kinds = []
    for example in examples:
        if example.label != oos_label:
            kinds.append(IN_SCOPE)
        elif example.text in id_texts and example.text not in ood_texts:
            kinds.append(ID_OOS)
        elif example.text in ood_texts and example.text not in id_texts:
            kinds.append(OOD_OOS)
        else:
            raise DatasetError(f"{folder / split}.csv: out-of-scope query {example.text!r} is not in exactly one of "
                               f"{split}_id_oos.csv and {split}_ood_oos.csv")  # fmt: skip
    return kinds


def oos_smoke_subset(data: OosDataset, per_kind: int = 10) -> OosDataset:
    """`datasets.smoke_subset`'s in-scope slice plus the first `per_kind` ID-OOS and OOD-OOS queries of each split."""
    base = smoke_subset(data.dataset, oos_per_split=0)
    splits: dict[str, tuple[list[Example], list[str]]] = {}
    for split in ("val", "test"):
        taken: Counter[str] = Counter()
        rows = [(example, IN_SCOPE) for example in base.split(split)]
        for example, kind in zip(data.dataset.split(split), data.kinds(split), strict=True):
            if kind != IN_SCOPE and taken[kind] < per_kind:
                taken[kind] += 1
                rows.append((example, kind))
        splits[split] = ([example for example, _ in rows], [kind for _, kind in rows])
    note = f"Smoke subset's out-of-scope queries: the first {per_kind} ID-OOS and {per_kind} OOD-OOS of each split."
    dataset = dataclasses.replace(base, val=splits["val"][0], test=splits["test"][0], notes=[*base.notes, note])
    return OosDataset(dataset, splits["val"][1], splits["test"][1])


@dataclass(frozen=True)
class OosScores:
    """Percentages in [0, 100] (None when there is no query of that kind) and MCC in [-1, 1]."""

    in_scope_accuracy: float
    oos_recall: float
    id_oos_recall: float | None
    ood_oos_recall: float | None
    mcc: float

    def values(self) -> dict[str, float | None]:
        """The scores keyed by report column."""
        return dataclasses.asdict(self)


def oos_scores(gold: Sequence[str], kinds: Sequence[str], predicted: Sequence[str], oos_label: str) -> OosScores:
    """In-scope accuracy, out-of-scope recall (all, ID-OOS, OOD-OOS) and MCC of final labels.

    Raises:
        ValueError: the sequences differ in length, or gold lacks in-scope or out-of-scope queries.
    """
    if not len(gold) == len(kinds) == len(predicted):
        raise ValueError(f"{len(gold)} gold labels, {len(kinds)} kinds and {len(predicted)} predictions")
    correct: dict[str, list[bool]] = {kind: [] for kind in _KINDS}
    for g, kind, p in zip(gold, kinds, predicted, strict=True):
        if (kind == IN_SCOPE) != (g != oos_label):
            raise ValueError(f"kind {kind!r} disagrees with gold label {g!r}")
        correct[kind].append(g == p)
    oos = correct[ID_OOS] + correct[OOD_OOS]
    if not correct[IN_SCOPE] or not oos:
        raise ValueError("scoring needs in-scope and out-of-scope queries")

    def percent(hits: list[bool]) -> float | None:
        return 100 * sum(hits) / len(hits) if hits else None

    return OosScores(
        in_scope_accuracy=100 * sum(correct[IN_SCOPE]) / len(correct[IN_SCOPE]),
        oos_recall=100 * sum(oos) / len(oos),
        id_oos_recall=percent(correct[ID_OOS]),
        ood_oos_recall=percent(correct[OOD_OOS]),
        mcc=mcc(gold, predicted),
    )


def mcc(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Matthews' correlation over every label (Gorodkin 2004's multiclass R_K, as scikit-learn computes it); 0 when
    it is undefined (gold or predictions hold a single label)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to score")
    codes = {label: i for i, label in enumerate(sorted({*gold, *predicted}))}
    return _mcc(np.array([codes[g] for g in gold]), np.array([codes[p] for p in predicted]), len(codes))


def _mcc(gold: np.ndarray, predicted: np.ndarray, labels: int) -> float:
    confusion = np.bincount(gold * labels + predicted, minlength=labels * labels).reshape(labels, labels)
    true, pred = confusion.sum(axis=1).astype(np.float64), confusion.sum(axis=0).astype(np.float64)
    total, right = float(confusion.sum()), float(np.trace(confusion))
    denominator = np.sqrt((total**2 - pred @ pred) * (total**2 - true @ true))
    return float((right * total - true @ pred) / denominator) if denominator > 0 else 0.0


def choose_mcc_threshold(gold: Sequence[str], predictions: Sequence[Prediction], oos_label: str) -> ThresholdChoice:
    """The confidence threshold with the highest MCC on `gold` (out-of-scope as a class); `objective` is that MCC.

    The candidates are those of `metrics.choose_threshold`: no threshold, and the midpoint below each distinct
    confidence. Among equal MCCs the lowest threshold wins. Without out-of-scope queries in `gold` none is chosen.
    """
    if len(gold) != len(predictions):
        raise ValueError(f"{len(gold)} gold labels but {len(predictions)} predictions")
    if oos_label not in gold:
        return ThresholdChoice(None, None, "validation has no out-of-scope queries, so no threshold is applied")
    codes = {label: i for i, label in enumerate(sorted({*gold, *(p.label for p in predictions), oos_label}))}
    gold_codes = np.array([codes[g] for g in gold])
    predicted = np.array([codes[p.label] for p in predictions])
    confidence = np.array([p.confidence for p in predictions], dtype=np.float64)
    distinct = np.unique(confidence)
    candidates: list[float | None] = [None, *((distinct[1:] + distinct[:-1]) / 2).tolist()]
    values = [
        _mcc(gold_codes, predicted if t is None else np.where(confidence < t, codes[oos_label], predicted), len(codes))
        for t in candidates
    ]
    best = int(np.argmax(values))  # the first maximum: the lowest threshold; index 0 rejects nothing
    reason = "the highest MCC on validation" + (" is reached without a threshold" if best == 0 else "")
    return ThresholdChoice(candidates[best], values[best], reason)


@dataclass(frozen=True)
class RuleResult:
    """One threshold rule's choice on validation and the scores it gives on validation and on test."""

    rule: str
    choice: ThresholdChoice
    val: OosScores
    test: OosScores


def evaluate_rules(
    data: OosDataset, val_predictions: Sequence[Prediction], test_predictions: Sequence[Prediction]
) -> list[RuleResult]:
    """Choose a threshold on validation by each rule of `RULES`, then score validation and test with it."""
    dataset = data.dataset
    val_gold = [example.label for example in dataset.val]
    test_gold = [example.label for example in dataset.test]
    choices = {
        MCC_RULE: choose_mcc_threshold(val_gold, val_predictions, dataset.oos_label),
        OPERATING_RULE: choose_threshold(val_gold, val_predictions, dataset.oos_label),
    }
    results = []
    for rule in RULES:
        threshold = choices[rule].threshold
        val_labels = decide(val_predictions, threshold, dataset.oos_label)
        test_labels = decide(test_predictions, threshold, dataset.oos_label)
        results.append(
            RuleResult(
                rule,
                choices[rule],
                oos_scores(val_gold, data.val_kinds, val_labels, dataset.oos_label),
                oos_scores(test_gold, data.test_kinds, test_labels, dataset.oos_label),
            )
        )
    return results


def rule_note(system: str, result: RuleResult) -> str:
    """One sentence for a report: the threshold a rule chose for a system, and what it gave on validation."""
    threshold = "none" if result.choice.threshold is None else f"{result.choice.threshold:.3f}"
    val = result.val
    return (
        f"{system}, {result.rule}: threshold {threshold}; on validation in-scope accuracy "
        f"{val.in_scope_accuracy:.2f}%, out-of-scope recall {val.oos_recall:.2f}%, MCC {val.mcc:.3f}."
    )
