"""The out-of-scope robustness benchmark's pure parts on hand-worked examples: the ID/OOD split, MCC, both threshold
rules, the datasets' kinds and smoke slice, and the `all` command that runs it."""

import hashlib
import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from benchmarks import oos_benchmark
from benchmarks.__main__ import _all_commands, _parser
from benchmarks.datasets import Dataset, DatasetError, Example
from benchmarks.metrics import Prediction
from benchmarks.oos import (
    ID_OOS,
    IN_SCOPE,
    MCC_RULE,
    OOD_OOS,
    OOS_DATASETS,
    OPERATING_RULE,
    OosDataset,
    choose_mcc_threshold,
    evaluate_rules,
    load_oos_dataset,
    mcc,
    oos_scores,
    oos_smoke_subset,
    rule_note,
)
from benchmarks.published import oos_reference_rows
from benchmarks.rasa_nlu import RasaEnvironment, TrainedPipeline
from benchmarks.report import table

OOS = "oos"


def test_oos_scores_split_recall_into_in_domain_and_out_of_domain() -> None:
    gold = ["a", "a", OOS, OOS, OOS, OOS, OOS]
    kinds = [IN_SCOPE, IN_SCOPE, ID_OOS, ID_OOS, OOD_OOS, OOD_OOS, OOD_OOS]
    predicted = ["a", OOS, OOS, "a", OOS, OOS, "b"]

    scores = oos_scores(gold, kinds, predicted, OOS)

    assert scores.in_scope_accuracy == pytest.approx(50.0)
    assert scores.oos_recall == pytest.approx(60.0)  # 3 of 5
    assert scores.id_oos_recall == pytest.approx(50.0)  # 1 of 2
    assert scores.ood_oos_recall == pytest.approx(200 / 3)  # 2 of 3


def test_oos_scores_refuse_kinds_that_disagree_with_gold() -> None:
    with pytest.raises(ValueError, match="disagrees"):
        oos_scores(["a", OOS], [ID_OOS, OOD_OOS], ["a", OOS], OOS)
    with pytest.raises(ValueError, match="needs in-scope and out-of-scope"):
        oos_scores(["a", "b"], [IN_SCOPE, IN_SCOPE], ["a", "b"], OOS)


def test_mcc_binary_matches_the_textbook_formula() -> None:
    # oos as positive: TP 2, TN 1, FP 1, FN 0 -> (2*1 - 1*0) / sqrt(3 * 2 * 2 * 1) = 1 / sqrt(3)
    assert mcc(["a", "a", OOS, OOS], ["a", OOS, OOS, OOS]) == pytest.approx(1 / math.sqrt(3))


def test_mcc_multiclass_on_a_hand_worked_confusion_matrix() -> None:
    # Confusion (rows gold a, b, oos): [1 1 0] [0 2 0] [1 0 1]; c = 4, s = 6, t = (2 2 2), p = (2 3 1).
    # (4*6 - (4 + 6 + 2)) / sqrt((36 - 14) * (36 - 12)) = 12 / sqrt(528)
    gold = ["a", "a", "b", "b", OOS, OOS]
    predicted = ["a", "b", "b", "b", OOS, "a"]

    assert mcc(gold, predicted) == pytest.approx(12 / math.sqrt(528))


def test_mcc_is_one_when_perfect_and_zero_when_undefined() -> None:
    assert mcc(["a", "b", OOS], ["a", "b", OOS]) == pytest.approx(1.0)
    assert mcc(["a", "b", OOS], [OOS, OOS, OOS]) == 0.0


def test_mcc_agrees_with_scikit_learn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(7)
    labels = ["a", "b", "c", OOS]
    gold = [rng.choice(labels) for _ in range(300)]
    predicted = [g if rng.random() < 0.6 else rng.choice(labels) for g in gold]

    assert mcc(gold, predicted) == pytest.approx(sklearn_metrics.matthews_corrcoef(gold, predicted))


# Validation on which the two rules disagree: the right "b" answer has the lowest confidence of all.
VAL_GOLD = ["a", "b", OOS, OOS]
VAL_PREDICTIONS = [Prediction("a", 0.9), Prediction("b", 0.3), Prediction("a", 0.4), Prediction("b", 0.5)]


def test_choose_mcc_threshold_takes_the_best_mcc_on_validation() -> None:
    # Candidates and their MCC: none 4/sqrt(80) = 0.447; 0.35 -0.1; 0.45 0.2; 0.7 5/sqrt(60) = 0.645.
    choice = choose_mcc_threshold(VAL_GOLD, VAL_PREDICTIONS, OOS)

    assert choice.threshold == pytest.approx(0.7)
    assert choice.objective == pytest.approx(5 / math.sqrt(60))


def test_choose_mcc_threshold_prefers_none_among_equals_and_without_oos() -> None:
    perfect = [Prediction("a", 0.2), Prediction("b", 0.9), Prediction(OOS, 0.5)]

    assert choose_mcc_threshold(["a", "b", OOS], perfect, OOS).threshold is None
    assert choose_mcc_threshold(["a", "b"], perfect[:2], OOS).threshold is None


def test_choose_mcc_threshold_is_the_brute_force_best() -> None:
    rng = random.Random(3)
    gold = [rng.choice(["a", "b", OOS]) for _ in range(120)]
    predictions = [Prediction(rng.choice(["a", "b"]), round(rng.random(), 2)) for _ in gold]

    choice = choose_mcc_threshold(gold, predictions, OOS)

    def at(threshold: float) -> float:
        return mcc(gold, [OOS if p.confidence < threshold else p.label for p in predictions])

    best = max(at(p.confidence + 1e-9) for p in predictions)
    assert choice.objective == pytest.approx(max(best, at(-1.0)))
    assert at(choice.threshold) == pytest.approx(choice.objective)


def _toy() -> OosDataset:
    dataset = Dataset(
        name="toy",
        train=[Example("hi", "a"), Example("yo", "b")],
        val=[Example(f"v{i}", label) for i, label in enumerate(VAL_GOLD)],
        test=[Example("t0", "a"), Example("t1", "b"), Example("t2", OOS), Example("t3", OOS)],
    )
    return OosDataset(dataset, [IN_SCOPE, IN_SCOPE, ID_OOS, OOD_OOS], [IN_SCOPE, IN_SCOPE, ID_OOS, OOD_OOS])


def test_evaluate_rules_scores_test_at_each_rules_validation_threshold() -> None:
    test = [Prediction("a", 0.8), Prediction("b", 0.6), Prediction("a", 0.65), Prediction("b", 0.2)]

    by_rule = {result.rule: result for result in evaluate_rules(_toy(), VAL_PREDICTIONS, test)}

    # Max-MCC: 0.7 rejects the right "b" (0.6) and both oos queries.
    mcc_rule = by_rule[MCC_RULE]
    assert mcc_rule.choice.threshold == pytest.approx(0.7)
    assert (mcc_rule.test.in_scope_accuracy, mcc_rule.test.oos_recall) == pytest.approx((50.0, 100.0))
    assert (mcc_rule.test.id_oos_recall, mcc_rule.test.ood_oos_recall) == pytest.approx((100.0, 100.0))
    assert mcc_rule.test.mcc == pytest.approx(5 / math.sqrt(60))
    # Operating rule: on a 2-query validation no in-scope loss is affordable and any cut loses the right "b".
    operating = by_rule[OPERATING_RULE]
    assert operating.choice.threshold is None
    assert (operating.test.in_scope_accuracy, operating.test.oos_recall) == pytest.approx((100.0, 0.0))
    assert (operating.test.id_oos_recall, operating.test.ood_oos_recall) == pytest.approx((0.0, 0.0))
    assert operating.test.mcc == pytest.approx(4 / math.sqrt(80))
    assert operating.val.in_scope_accuracy == pytest.approx(100.0)
    assert "threshold none" in rule_note("X", operating) and "threshold 0.700" in rule_note("X", mcc_rule)


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows), encoding="utf-8")


def _oos_folder(root: Path) -> Path:
    folder = root / "oos-robustness" / "clinc-banking"
    folder.mkdir(parents=True)
    _write(folder / "train.csv", [(f"{label} train {i}", label) for label in "abcdef" for i in range(3)])
    for split in ("val", "test"):
        in_scope = [(f"{label} {split} {i}", label) for label in "abcdef" for i in range(2)]
        id_oos = [(f"bank {split} {i}", OOS) for i in range(12)]
        ood_oos = [(f"weather {split} {i}", OOS) for i in range(12)]
        _write(folder / f"{split}.csv", in_scope + id_oos + ood_oos)
        _write(folder / f"{split}_id_oos.csv", id_oos)
        _write(folder / f"{split}_ood_oos.csv", ood_oos)
    return folder


def test_load_oos_dataset_by_name_tags_each_query_with_its_kind(tmp_path: Path) -> None:
    _oos_folder(tmp_path)

    data = load_oos_dataset("clinc-banking", tmp_path)

    assert data.dataset.name == "clinc-banking"
    assert data.test_kinds == [IN_SCOPE] * 12 + [ID_OOS] * 12 + [OOD_OOS] * 12
    assert data.counts("val") == "12 in-scope / 12 ID-OOS / 12 OOD-OOS"


def test_load_oos_dataset_refuses_an_unlisted_oos_query_and_a_missing_val(tmp_path: Path) -> None:
    folder = _oos_folder(tmp_path)
    _write(folder / "test_ood_oos.csv", [("weather test 0", OOS)])
    with pytest.raises(DatasetError, match="not in exactly one"):
        load_oos_dataset(str(folder), tmp_path)
    (folder / "val.csv").unlink()
    with pytest.raises(DatasetError, match=r"val\.csv"):
        load_oos_dataset(str(folder), tmp_path)


def test_oos_smoke_subset_keeps_both_kinds_of_out_of_scope(tmp_path: Path) -> None:
    _oos_folder(tmp_path)

    smoke = oos_smoke_subset(load_oos_dataset("clinc-banking", tmp_path), per_kind=3)

    assert smoke.dataset.in_scope_labels == list("abcde")
    assert smoke.test_kinds == [IN_SCOPE] * 10 + [ID_OOS] * 3 + [OOD_OOS] * 3
    assert [e.text for e in smoke.dataset.test[-3:]] == ["weather test 0", "weather test 1", "weather test 2"]
    assert len(smoke.val_kinds) == len(smoke.dataset.val)


def test_all_runs_oos_on_each_set_with_the_nlu_options() -> None:
    args = _parser().parse_args(["all", "--rasa-bin", "/x/rasa", "--smoke"])

    oos = [command for command in _all_commands(args) if command[0] == "oos"]

    assert [command[2] for command in oos] == list(OOS_DATASETS)
    assert all("--rasa-bin" in command and "--smoke" in command for command in oos)


def test_reference_rows_print_with_the_new_columns() -> None:
    rows = oos_reference_rows("clinc-banking")

    text = table(rows)

    assert "| MCC |" in text and "0.785" in text and "70.30" in text
    assert oos_reference_rows("clinc-banking-smoke") == []


class _WordEmbedder:
    """Hashed bag of words, normalised: enough for the baseline's index to find neighbours."""

    name = "fake-words"
    dimension = 64

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_run_oos_benchmark_reports_both_systems_under_both_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_oos_dataset(str(_oos_folder(tmp_path)), tmp_path)
    dataset = data.dataset

    def pipeline(split: str) -> list[Prediction]:
        # Right and sure on in-scope queries, unsure on out-of-scope ones.
        return [Prediction(e.label, 0.9) if e.label != OOS else Prediction("a", 0.3) for e in dataset.split(split)]

    trained = TrainedPipeline(
        pipeline("val"), pipeline("test"), [{"latency_ms": 5.0, "top_intent": "a"}] * len(dataset.test), 12.0,
        tmp_path / "encoder", ["Pipeline: toy."],
    )  # fmt: skip
    monkeypatch.setattr(oos_benchmark, "train_and_predict", lambda *args, **kwargs: trained)
    rasa = RasaEnvironment(tmp_path / "rasa", tmp_path, {})

    result = oos_benchmark.run_oos_benchmark(
        data, _WordEmbedder(), rasa, tmp_path / "config.yml", tmp_path / "work", tmp_path / "embeddings"
    )

    assert (result.dataset, result.kind) == ("clinc-banking", "oos")
    rows = {row.system: row.values for row in result.rows}
    perfect = rows["Keepwell Rasa NLU (config.yml), max-MCC threshold"]
    assert perfect["mcc"] == pytest.approx(1.0) and perfect["threshold"] == pytest.approx(0.6)
    assert (perfect["id_oos_recall"], perfect["ood_oos_recall"], perfect["latency_p50_ms"]) == (100.0, 100.0, 5.0)
    assert "Stock MiniLM nearest neighbour (baseline), 0.5-point rule" in rows
    assert "Reference: stock MiniLM nearest neighbour, max-MCC threshold" in rows  # the README's numbers beside
    assert any("12 in-scope / 12 ID-OOS / 12 OOD-OOS" in line for line in result.setup)
    assert list((tmp_path / "embeddings").rglob("*.npy")), "the baseline's vectors were not cached"
