"""Benchmark datasets: labelled utterances split into train, validation and test, with an optional out-of-scope label.

Built-in: `clinc150` (Larson et al. 2019, full data, oos-train setup) and `banking77` (Casanueva et al. 2020), read
from the shared datasets folder. Any folder holding `train.csv`, optional `val.csv` and `test.csv` (columns
`text,label`) is a dataset too. Without a validation split one is carved from train, stratified and seeded, so
thresholds are never chosen on test.
"""

import csv
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_OOS_LABEL = "oos"
VALIDATION_FRACTION = 0.10
VALIDATION_SEED = 42


class DatasetError(ValueError):
    """A dataset that cannot be read or used; the message names the file."""


@dataclass(frozen=True)
class Example:
    """One labelled utterance."""

    text: str
    label: str


@dataclass(frozen=True)
class Dataset:
    """Three splits of labelled utterances; `oos_label` marks out-of-scope examples (there may be none).

    `notes` say how the splits were made, for the report.
    """

    name: str
    train: list[Example]
    val: list[Example]
    test: list[Example]
    oos_label: str = DEFAULT_OOS_LABEL
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Every label in train, sorted (the out-of-scope label included when train has it)."""
        return sorted({example.label for example in self.train})

    @property
    def in_scope_labels(self) -> list[str]:
        """The labels of train other than the out-of-scope one."""
        return [label for label in self.labels if label != self.oos_label]

    def has_oos(self, split: str) -> bool:
        """Whether `split` ("train", "val" or "test") holds any out-of-scope example."""
        return any(example.label == self.oos_label for example in self.split(split))

    def split(self, name: str) -> list[Example]:
        """The examples of split `name`: "train", "val" or "test"."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; expected train, val or test")
        examples: list[Example] = getattr(self, name)
        return examples

    def summary(self) -> str:
        """Split sizes and label count, e.g. "train 15,100 / val 3,100 / test 5,500; 150 intents + oos"."""
        sizes = " / ".join(f"{name} {len(self.split(name)):,}" for name in ("train", "val", "test"))
        oos = f" + {self.oos_label}" if self.has_oos("train") or self.has_oos("test") else ""
        return f"{sizes}; {len(self.in_scope_labels)} intents{oos}"


def load_dataset(spec: str, datasets_root: Path, oos_label: str = DEFAULT_OOS_LABEL) -> Dataset:
    """A built-in dataset by name, or a folder of CSV files by path.

    Args:
        spec: "clinc150", "banking77", or a folder holding train.csv, optional val.csv, and test.csv.
        datasets_root: the folder holding the built-in datasets' folders (clinc150/, banking77/).
        oos_label: the out-of-scope label of a CSV dataset (the built-in ones fix their own).

    Raises:
        DatasetError: the files are missing or malformed.
    """
    if spec in LOADERS:
        return LOADERS[spec](Path(datasets_root) / spec)
    folder = Path(spec)
    if folder.is_dir():
        return load_csv_folder(folder, oos_label)
    known = ", ".join(sorted(LOADERS))
    raise DatasetError(f"unknown dataset {spec!r}: expected one of {known}, or a folder with train.csv and test.csv")


def load_clinc150(folder: Path) -> Dataset:
    """CLINC150 full data in the paper's oos-train setup: the 100 `oos_train` examples are a 151st class.

    Validation is `val` + `oos_val`; test is the 4,500 in-scope + 1,000 `oos_test` queries.
    """
    path = Path(folder) / "data_full.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"CLINC150 not found: {path} (see the datasets README)") from None
    except ValueError as error:
        raise DatasetError(f"{path}: not valid JSON ({error})") from error

    def pairs(key: str) -> list[Example]:
        rows = data.get(key) if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise DatasetError(f"{path}: missing list {key!r}")
        return [_example(row[0], row[1], f"{path}:{key}") for row in rows]

    return Dataset(
        name="clinc150",
        train=pairs("train") + pairs("oos_train"),
        val=pairs("val") + pairs("oos_val"),
        test=pairs("test") + pairs("oos_test"),
        oos_label="oos",
        source=str(path),
        notes=["Full data, oos-train setup: train holds the 150 intents plus the 100 oos_train queries as class oos."],
    )


def load_banking77(folder: Path) -> Dataset:
    """BANKING77: the official train and test files; validation is carved from train (no official one exists)."""
    folder = Path(folder)
    train = read_csv(folder / "train.csv", label_column="category")
    test = read_csv(folder / "test.csv", label_column="category")
    train, val = carve_validation(train)
    return Dataset(
        name="banking77",
        train=train,
        val=val,
        test=test,
        oos_label=DEFAULT_OOS_LABEL,
        source=str(folder),
        notes=[_carved_note(len(train), len(val))],
    )


def load_csv_folder(folder: Path, oos_label: str = DEFAULT_OOS_LABEL) -> Dataset:
    """A folder with `train.csv`, optional `val.csv`, and `test.csv`, each with columns `text,label`.

    Without `val.csv` a stratified validation split is carved from train.
    """
    folder = Path(folder)
    train = read_csv(folder / "train.csv")
    test = read_csv(folder / "test.csv")
    notes = []
    if (folder / "val.csv").is_file():
        val = read_csv(folder / "val.csv")
        notes.append("Validation split: val.csv.")
    else:
        train, val = carve_validation(train)
        notes.append(_carved_note(len(train), len(val)))
    return Dataset(
        name=folder.resolve().name,
        train=train,
        val=val,
        test=test,
        oos_label=oos_label,
        source=str(folder),
        notes=notes,
    )


def carve_validation(
    examples: list[Example], fraction: float = VALIDATION_FRACTION, seed: int = VALIDATION_SEED
) -> tuple[list[Example], list[Example]]:
    """Split off a stratified validation set: about `fraction` of each label, chosen by a seeded shuffle.

    Labels with a single example keep it in train. The same input always gives the same split.

    Returns:
        (rest of train, validation), each in the input's order.
    """
    if not 0 < fraction < 1:
        raise ValueError("fraction must be between 0 and 1")
    by_label: dict[str, list[int]] = defaultdict(list)
    for position, example in enumerate(examples):
        by_label[example.label].append(position)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    chosen: set[int] = set()
    for label in sorted(by_label):
        positions = by_label[label]
        count = min(len(positions) - 1, max(1, round(len(positions) * fraction)))
        shuffled = positions[:]
        rng.shuffle(shuffled)
        chosen.update(shuffled[:count])
    train = [example for position, example in enumerate(examples) if position not in chosen]
    val = [example for position, example in enumerate(examples) if position in chosen]
    return train, val


def smoke_subset(
    dataset: Dataset, labels: int = 5, train_per_label: int = 20, eval_per_label: int = 10, oos_per_split: int = 20
) -> Dataset:
    """A small slice for smoke runs: the first `labels` in-scope labels (sorted) plus the out-of-scope examples.

    Takes the first examples of each label in file order, so the slice is the same on every run.
    """
    keep = set(dataset.in_scope_labels[:labels])

    def take(examples: Iterable[Example], per_label: int) -> list[Example]:
        taken: Counter[str] = Counter()
        result = []
        for example in examples:
            limit = oos_per_split if example.label == dataset.oos_label else per_label
            if (example.label in keep or example.label == dataset.oos_label) and taken[example.label] < limit:
                taken[example.label] += 1
                result.append(example)
        return result

    return Dataset(
        name=f"{dataset.name}-smoke",
        train=take(dataset.train, train_per_label),
        val=take(dataset.val, eval_per_label),
        test=take(dataset.test, eval_per_label),
        oos_label=dataset.oos_label,
        source=dataset.source,
        notes=[
            *dataset.notes,
            f"Smoke subset: {len(keep)} intents x {train_per_label} train / {eval_per_label} val and test examples, "
            f"up to {oos_per_split} out-of-scope per split. Not comparable with published results.",
        ],
    )


def read_csv(path: Path, label_column: str = "label") -> list[Example]:
    """The examples of a CSV file with a `text` column and a label column, whitespace normalised.

    Raises:
        DatasetError: the file is missing, not UTF-8, lacks the columns, or has no examples.
    """
    try:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            columns = reader.fieldnames or []
            if "text" not in columns or label_column not in columns:
                raise DatasetError(f"{path}: expected columns 'text' and '{label_column}', found {columns}")
            examples = [
                _example(row["text"], row[label_column], f"{path}:{line}") for line, row in enumerate(reader, start=2)
            ]
    except FileNotFoundError:
        raise DatasetError(f"{path} not found") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 ({error})") from error
    if not examples:
        raise DatasetError(f"{path}: no examples")
    return examples


def _example(text: object, label: object, where: str) -> Example:
    if not isinstance(text, str) or not isinstance(label, str):
        raise DatasetError(f"{where}: text and label must be strings")
    text, label = " ".join(text.split()), label.strip()
    if not text or not label:
        raise DatasetError(f"{where}: empty text or label")
    return Example(text, label)


def _carved_note(train: int, val: int) -> str:
    return (
        f"No official validation split: {val:,} examples ({VALIDATION_FRACTION:.0%} of each intent, seed "
        f"{VALIDATION_SEED}) carved from train for choosing the threshold; models train on the other {train:,}."
    )


LOADERS: dict[str, Callable[[Path], Dataset]] = {"clinc150": load_clinc150, "banking77": load_banking77}
