"""Dataset loading, the carved validation split and the smoke subset, on small synthetic files."""

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.datasets import (
    Dataset,
    DatasetError,
    Example,
    carve_validation,
    load_banking77,
    load_clinc150,
    load_csv_folder,
    load_dataset,
    smoke_subset,
)


def _write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> None:
    lines = [header] + [f'"{text}",{label}' for text, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _examples(counts: dict[str, int]) -> list[Example]:
    return [Example(f"{label} question {n}", label) for label, count in counts.items() for n in range(count)]


def test_carved_validation_is_stratified_deterministic_and_disjoint() -> None:
    examples = _examples({"a": 100, "b": 40, "c": 7})

    train, val = carve_validation(examples, fraction=0.1, seed=7)
    again_train, again_val = carve_validation(examples, fraction=0.1, seed=7)

    assert Counter(e.label for e in val) == {"a": 10, "b": 4, "c": 1}
    assert (train, val) == (again_train, again_val)
    assert sorted(map(repr, train + val)) == sorted(map(repr, examples))
    assert not {e.text for e in train} & {e.text for e in val}


def test_carved_validation_depends_on_the_seed_and_keeps_singletons_in_train() -> None:
    examples = _examples({"a": 50, "lonely": 1})

    _, val_one = carve_validation(examples, seed=1)
    train_two, val_two = carve_validation(examples, seed=2)

    assert val_one != val_two
    assert "lonely" not in {e.label for e in val_two}
    assert "lonely" in {e.label for e in train_two}


def test_csv_folder_without_val_carves_one_and_normalises_text(tmp_path: Path) -> None:
    _write_csv(tmp_path / "train.csv", [(f"  how do I   reset {n}  ", "reset") for n in range(20)] + [
        (f"cancel my plan {n}", "cancel") for n in range(20)
    ])  # fmt: skip
    _write_csv(tmp_path / "test.csv", [("reset my password", "reset"), ("what is the weather", "oos")])

    dataset = load_csv_folder(tmp_path)

    assert dataset.name == tmp_path.name
    assert len(dataset.val) == 4 and len(dataset.train) == 36
    assert dataset.train[0].text.startswith("how do I reset")
    assert dataset.has_oos("test") and not dataset.has_oos("train")
    assert dataset.in_scope_labels == ["cancel", "reset"]
    assert "carved from train" in dataset.notes[0]


def test_csv_folder_uses_val_csv_and_a_custom_oos_label(tmp_path: Path) -> None:
    _write_csv(tmp_path / "train.csv", [("hi", "greet"), ("nonsense", "none_of_these")])
    _write_csv(tmp_path / "val.csv", [("hello", "greet"), ("gibberish", "none_of_these")])
    _write_csv(tmp_path / "test.csv", [("hey", "greet")])

    dataset = load_dataset(str(tmp_path), tmp_path / "unused", oos_label="none_of_these")

    assert [e.text for e in dataset.val] == ["hello", "gibberish"]
    assert dataset.oos_label == "none_of_these"
    assert dataset.in_scope_labels == ["greet"]
    assert dataset.has_oos("val")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"test.csv": "text,label\nhi,greet\n"}, "train.csv not found"),
        ({"train.csv": "words,label\nhi,greet\n", "test.csv": "text,label\nhi,greet\n"}, "expected columns"),
        ({"train.csv": "text,label\n,greet\n", "test.csv": "text,label\nhi,greet\n"}, "empty text or label"),
        ({"train.csv": "text,label\n", "test.csv": "text,label\nhi,greet\n"}, "no examples"),
    ],
)
def test_malformed_csv_folders_are_refused_with_the_file_named(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    with pytest.raises(DatasetError, match=message):
        load_csv_folder(tmp_path)


def test_unknown_dataset_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="banking77, clinc150"):
        load_dataset("snips", tmp_path)


def test_clinc150_trains_oos_as_a_class_and_evaluates_on_all_oos_splits(tmp_path: Path) -> None:
    data = {
        "train": [["book a table", "restaurant"], ["what is my balance", "balance"]],
        "val": [["table for two", "restaurant"]],
        "test": [["how much money do i have", "balance"]],
        "oos_train": [["who won the game", "oos"]],
        "oos_val": [["sing a song", "oos"]],
        "oos_test": [["tell me a joke", "oos"], ["what is love", "oos"]],
    }
    (tmp_path / "data_full.json").write_text(json.dumps(data), encoding="utf-8")

    dataset = load_clinc150(tmp_path)

    assert dataset.labels == ["balance", "oos", "restaurant"]
    assert dataset.in_scope_labels == ["balance", "restaurant"]
    assert [e.label for e in dataset.val] == ["restaurant", "oos"]
    assert [e.label for e in dataset.test] == ["balance", "oos", "oos"]
    assert dataset.oos_label == "oos"


def test_banking77_reads_category_and_carves_validation(tmp_path: Path) -> None:
    rows = [(f"card question {n}", "card_arrival") for n in range(30)] + [(f"top up {n}", "top_up") for n in range(10)]
    _write_csv(tmp_path / "train.csv", rows, header="text,category")
    _write_csv(tmp_path / "test.csv", [("where is my card", "card_arrival")], header="text,category")

    dataset = load_banking77(tmp_path)

    assert Counter(e.label for e in dataset.val) == {"card_arrival": 3, "top_up": 1}
    assert len(dataset.train) == 36
    assert not dataset.has_oos("test")


def test_smoke_subset_keeps_a_few_labels_and_the_out_of_scope_examples() -> None:
    dataset = Dataset(
        name="toy",
        train=_examples({"a": 30, "b": 30, "c": 30, "oos": 30}),
        val=_examples({"a": 15, "c": 15, "oos": 30}),
        test=_examples({"a": 15, "b": 15, "oos": 5}),
    )

    smoke = smoke_subset(dataset, labels=2, train_per_label=20, eval_per_label=10, oos_per_split=12)

    assert smoke.name == "toy-smoke"
    assert Counter(e.label for e in smoke.train) == {"a": 20, "b": 20, "oos": 12}
    assert Counter(e.label for e in smoke.val) == {"a": 10, "oos": 12}
    assert Counter(e.label for e in smoke.test) == {"a": 10, "b": 10, "oos": 5}
    assert "Not comparable" in smoke.notes[-1]


def test_real_datasets_have_the_documented_sizes_when_present() -> None:
    root = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    if not (root / "clinc150" / "data_full.json").is_file():
        pytest.fail(f"the shared datasets are missing: expected them in {root}")

    clinc = load_dataset("clinc150", root)
    banking = load_dataset("banking77", root)

    assert (len(clinc.train), len(clinc.val), len(clinc.test)) == (15_100, 3_100, 5_500)
    assert len(clinc.in_scope_labels) == 150
    assert len(banking.train) + len(banking.val) == 10_003 and len(banking.test) == 3_080
    assert len(banking.in_scope_labels) == 77 and not banking.has_oos("test")
