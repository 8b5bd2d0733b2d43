"""Published results that our rows are printed beside, with where each number comes from.

Sources are described in the datasets' READMEs (shared/datasets/*/README.md): CLINC150 numbers were read from the
paper's PDF; the BANKING77 full-data numbers are secondary quotes of the paper's Table 3.
"""

from .report import Row

LARSON_2019 = "Larson et al. 2019 (EMNLP), Table 2, full data"
CASANUEVA_2020 = "Casanueva et al. 2020 (NLP4ConvAI), Table 3, full data (secondary quote)"

PUBLISHED: dict[str, list[Row]] = {
    "clinc150": [
        Row("BERT, oos-threshold", LARSON_2019, {"in_scope_accuracy": 96.2, "oos_recall": 52.3}, decimals=1),
        Row("BERT, oos-train", LARSON_2019, {"in_scope_accuracy": 96.9, "oos_recall": 40.3}, decimals=1),
        Row("Rasa, oos-train", LARSON_2019, {"in_scope_accuracy": 91.5, "oos_recall": 45.3}, decimals=1),
        Row("Rasa, oos-threshold", LARSON_2019, {"in_scope_accuracy": 90.9, "oos_recall": 31.2}, decimals=1),
        Row("DialogFlow, oos-train", LARSON_2019, {"in_scope_accuracy": 91.7, "oos_recall": 14.0}, decimals=1),
    ],
    "banking77": [
        Row("BERT-Large fine-tuned (BERT-Tuned)", CASANUEVA_2020, {"accuracy": 93.66}, decimals=2),
        Row("USE+ConveRT", CASANUEVA_2020, {"accuracy": 93.36}, decimals=2),
    ],
}

NOTES: dict[str, list[str]] = {
    "clinc150": [
        "Published rows: in-scope accuracy over the 4,500 in-scope test queries and recall over the 1,000 oos_test "
        "queries. oos-train trains out-of-scope as a 151st class; oos-threshold rejects queries whose top probability "
        "is below a threshold chosen on validation. The Rasa rows are the 2019 Rasa pipeline, not this config.",
    ],
    "banking77": [
        "Published rows are trained on all 10,003 training queries; ours train on 90% of them (see Setup).",
    ],
}


OOS_ROBUSTNESS_README = "oos-robustness README, measured 2026-11-30"
_OOS_BASELINE = "Reference: stock MiniLM nearest neighbour"
# (in-scope accuracy, out-of-scope recall, MCC) at the MCC-maximising threshold, then at the 0.5-point rule.
_OOS_REFERENCE: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "clinc-banking": ((80.40, 93.70, 0.785), (95.40, 70.30, 0.670)),
    "clinc-credit-cards": ((77.40, 96.44, 0.804), (97.00, 76.74, 0.725)),
    "banking77-oos": ((80.00, 67.15, 0.678), (84.50, 54.09, 0.661)),
}


def oos_reference_rows(dataset: str) -> list[Row]:
    """The nearest-neighbour baseline as the oos-robustness datasets' README reports it (none for other datasets)."""
    if dataset not in _OOS_REFERENCE:
        return []
    rules = ("max-MCC threshold", "0.5-point rule")
    return [
        Row(f"{_OOS_BASELINE}, {rule}", OOS_ROBUSTNESS_README, {"in_scope_accuracy": a, "oos_recall": r, "mcc": m})
        for rule, (a, r, m) in zip(rules, _OOS_REFERENCE[dataset], strict=True)
    ]


def published_rows(dataset: str) -> list[Row]:
    """The published rows for a dataset name (none for other datasets)."""
    return list(PUBLISHED.get(dataset, []))


def published_notes(dataset: str) -> list[str]:
    """What the published rows measure, for the report's notes."""
    return list(NOTES.get(dataset, []))
