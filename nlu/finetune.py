"""`python -m nlu.finetune`: fine-tune MiniLM on the bot's intent examples and export it for the Rasa featurizer.

SetFit's first stage (Tunstall et al. 2022): make sentences of one intent lie close together and apart from the other
intents before a simple classifier is fitted on the vectors (`nlu.classifier`, inside `rasa train`). SetFit contrasts
pairs of sentences; we contrast each sentence with one learnable prototype per intent (a cosine softmax with an
additive margin, CosFace: Wang et al. 2018), which needs one forward pass per example instead of one per pair. On
CLINC150 it gave the logistic-regression head about one point of in-scope accuracy over the stock model, more than
SupCon's in-batch pairs did; the measurements are in benchmarks/README.md.

Runs in the Python 3.11 environment (torch, sentence-transformers); the Rasa environment only runs the ONNX export.
The training data are Rasa NLU YAML files, read here without Rasa. The result is skipped when the export already in
`--out` was tuned from the same model, examples and settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .encoder import EncoderError, read_manifest
from .export import (
    DEFAULT_OUT,
    ExportError,
    ExportResult,
    default_model_path,
    directory_sha256,
    export,
    source_name,
    up_to_date_manifest,
)

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

DEFAULT_DATA = Path("bot/nlu")
# Bump when the training procedure changes meaning: every tuned export is then redone.
PROCEDURE_VERSION = 1
# Rasa's entity annotations: "[text](entity)", "[text]{...}", "[text][...]"; the tuned encoder sees the plain text.
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")


class FineTuneError(Exception):
    """The training data or settings cannot be used."""


@dataclass(frozen=True)
class IntentExample:
    """One training sentence and its intent."""

    text: str
    intent: str


@dataclass(frozen=True)
class FineTuneSettings:
    """How the encoder is tuned. Loss, learning rate, margin and frozen layers were compared on CLINC150's validation
    split (benchmarks/README.md); `epochs` is what fits the 10-minute training budget there.

    Attributes:
        epochs: passes over the examples.
        min_steps: at least this many batches, so a small bot's few hundred examples still move the encoder (the bot's
            372 examples get about 10 epochs; 5-fold cross-validation on them: accuracy 0.863 -> 0.914).
        batch_size: examples per step.
        learning_rate: for the encoder's weights; the prototypes learn `head_learning_rate`.
        frozen_layers: the word embeddings and this many lower transformer layers keep their weights, which saves
            about a third of the time per step and keeps general English knowledge intact.
        margin, scale: CosFace's additive cosine margin and logit scale.
        seed: for shuffling, dropout and the head, so the same data gives the same encoder.
    """

    epochs: float = 1.5
    min_steps: int = 60
    batch_size: int = 64
    learning_rate: float = 8e-5
    head_learning_rate: float = 1e-3
    frozen_layers: int = 2
    margin: float = 0.1
    scale: float = 30.0
    seed: int = 42

    def steps(self, examples: int) -> int:
        """Optimiser steps for `examples` training examples."""
        return max(self.min_steps, math.ceil(self.epochs * examples / self.batch_size))


@dataclass(frozen=True)
class FineTuneResult:
    """What `build` did: the export's outcome, and the training that preceded it (None when skipped)."""

    export: ExportResult
    fingerprint: str
    examples: int
    intents: int
    steps: int | None
    train_seconds: float | None


def read_rasa_nlu(paths: Iterable[Path]) -> list[IntentExample]:
    """The intent examples of Rasa 3 NLU YAML files (`nlu:` blocks with `intent:` and `examples:`).

    Directories are searched for `*.yml` and `*.yaml`. Synonyms, regexes and lookups are ignored; entity markup is
    reduced to its text; duplicates are kept once, the first time they occur.

    Raises:
        FineTuneError: a path is missing, a file is not valid YAML, or no file holds an intent example.
    """
    paths = [Path(path) for path in paths]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise FineTuneError(f"training data not found: {path}")
    examples: dict[tuple[str, str], IntentExample] = {}
    for file in files:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError) as error:
            raise FineTuneError(f"cannot read {file}: {error}") from error
        except yaml.YAMLError as error:
            raise FineTuneError(f"{file} is not valid YAML: {error}") from error
        blocks = (document.get("nlu") or []) if isinstance(document, dict) else []
        if not isinstance(blocks, list):
            raise FineTuneError(f"{file}: `nlu:` must be a list of blocks")
        for block in blocks:
            if not isinstance(block, dict) or not block.get("intent"):
                continue
            for text in _example_texts(block.get("examples")):
                example = IntentExample(text, str(block["intent"]))
                examples.setdefault((example.text, example.intent), example)
    if not examples:
        raise FineTuneError(f"no intent examples in {', '.join(map(str, paths))}")
    return list(examples.values())


def _example_texts(examples: Any) -> list[str]:
    if isinstance(examples, str):
        items: list[Any] = [line.strip()[2:] for line in examples.splitlines() if line.strip().startswith("- ")]
    elif isinstance(examples, list):  # the long form: a list of {text: ..., metadata: ...}
        items = [item.get("text") if isinstance(item, dict) else item for item in examples]
    else:
        return []
    texts = (" ".join(_ENTITY_MARKUP.sub(r"\1", str(item)).split()) for item in items if item is not None)
    return [text for text in texts if text]


def fingerprint(examples: Sequence[IntentExample], settings: FineTuneSettings, model_sha256: str) -> str:
    """One hash of everything the tuned weights depend on; an export with the same one need not be redone."""
    # In order: batches follow the examples' order, so a reordered file trains different weights.
    payload = {
        "procedure": PROCEDURE_VERSION,
        "code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "libraries": _library_versions(),
        "model": model_sha256,
        "settings": asdict(settings),
        "examples": [[e.intent, e.text] for e in examples],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("torch", "transformers", "sentence-transformers"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "missing"
    return versions


def build(
    examples: Sequence[IntentExample],
    out_dir: Path,
    settings: FineTuneSettings | None = None,
    model_path: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> FineTuneResult:
    """Fine-tune the model on `examples` and export it to `out_dir`, unless `out_dir` already holds that result.

    Raises:
        FineTuneError: fewer than two intents, or bad settings.
        ExportError: the tuned model cannot be exported faithfully.
    """
    settings = settings or FineTuneSettings()
    _check(examples, settings)
    model_path = Path(model_path) if model_path else default_model_path()
    if not model_path.is_dir():
        raise ExportError(f"model directory not found: {model_path}")
    key = fingerprint(examples, settings, directory_sha256(model_path))
    intents = len({e.intent for e in examples})
    if not force:
        try:
            manifest = read_manifest(out_dir)
        except EncoderError:
            manifest = None
        if (
            manifest is not None
            and (manifest.fine_tuning or {}).get("fingerprint") == key
            and up_to_date_manifest(out_dir, manifest.source_sha256) is not None
        ):
            skipped = ExportResult(manifest, skipped=True, seconds=0.0)
            return FineTuneResult(skipped, key, len(examples), intents, None, None)

    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
    steps = tune(model, examples, settings, progress=progress)
    train_seconds = time.perf_counter() - started
    base_name = source_name(model_path)
    details = {
        "fingerprint": key,
        "base_model": base_name,
        "examples": len(examples),
        "intents": intents,
        "steps": steps,
        "train_seconds": round(train_seconds, 1),
        "loss": "CosFace (cosine softmax with additive margin) against one prototype per intent",
        "settings": asdict(settings),
    }
    with tempfile.TemporaryDirectory(prefix="keepwell-tuned-") as tuned:
        model.save(tuned)
        result = export(
            out_dir, Path(tuned), force=True, source=(f"{base_name}, fine-tuned", model_path), fine_tuning=details
        )
    return FineTuneResult(result, key, len(examples), intents, steps, train_seconds)


def _check(examples: Sequence[IntentExample], settings: FineTuneSettings) -> None:
    if len({e.intent for e in examples}) < 2:
        raise FineTuneError("fine-tuning needs examples of at least two intents")
    positive = (settings.epochs, settings.learning_rate, settings.head_learning_rate, settings.scale)
    if not all(math.isfinite(value) and value > 0 for value in positive) or not math.isfinite(settings.margin):
        raise FineTuneError(f"invalid fine-tuning settings: {settings}")
    if settings.batch_size < 2 or settings.min_steps < 0 or settings.frozen_layers < 0:
        raise FineTuneError(f"invalid fine-tuning settings: {settings}")


def tune(
    model: SentenceTransformer, examples: Sequence[IntentExample], settings: FineTuneSettings, progress: bool = True
) -> int:
    """Fine-tune `model` in place; returns the number of optimiser steps taken."""
    import torch
    from tqdm import tqdm

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)  # noqa: S311 -- shuffling training batches, not security
    intents = sorted({e.intent for e in examples})
    index = {intent: i for i, intent in enumerate(intents)}
    labels = torch.tensor([index[e.intent] for e in examples])
    texts = [e.text for e in examples]

    bert = model[0].auto_model
    frozen = [bert.embeddings, *bert.encoder.layer[: settings.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    # Each prototype starts at its intent's mean vector, so the first steps refine rather than search.
    prototypes = torch.nn.Parameter(_centroids(model, texts, labels, len(intents), settings.batch_size))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": trainable, "lr": settings.learning_rate},
            {"params": [prototypes], "lr": settings.head_learning_rate},
        ]
    )
    steps = settings.steps(len(examples))
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / steps)
    )
    model.train()
    order: list[int] = []
    with tqdm(total=steps, desc="Fine-tuning the encoder", unit="step", disable=not progress) as bar:
        for _ in range(steps):
            if len(order) < settings.batch_size:
                order += rng.sample(range(len(texts)), len(texts))
            batch, order = order[: settings.batch_size], order[settings.batch_size :]
            loss = _cosface_loss(model, [texts[i] for i in batch], labels[batch], prototypes, settings)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.set_postfix(loss=f"{loss.item():.3f}")
            bar.update()
    model.eval()
    for module in frozen:
        module.requires_grad_(True)
    return steps


def _centroids(
    model: SentenceTransformer, texts: list[str], labels: torch.Tensor, count: int, batch_size: int
) -> torch.Tensor:
    import torch

    vectors = model.encode(texts, batch_size=batch_size * 2, convert_to_tensor=True, normalize_embeddings=True)
    sums = torch.zeros(count, vectors.shape[1]).index_add_(0, labels, vectors.float())
    return torch.nn.functional.normalize(sums, dim=1)


def _cosface_loss(
    model: SentenceTransformer,
    texts: list[str],
    labels: torch.Tensor,
    prototypes: torch.Tensor,
    settings: FineTuneSettings,
) -> torch.Tensor:
    import torch

    features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
    vectors = torch.nn.functional.normalize(model(dict(features))["sentence_embedding"], dim=1)
    cosines = vectors @ torch.nn.functional.normalize(prototypes, dim=1).T
    margins = settings.margin * torch.nn.functional.one_hot(labels, prototypes.shape[0])
    return torch.nn.functional.cross_entropy(settings.scale * (cosines - margins), labels)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    defaults = FineTuneSettings()
    parser = argparse.ArgumentParser(
        prog="python -m nlu.finetune",
        description="Fine-tune all-MiniLM-L6-v2 on Rasa NLU intent examples and export it to ONNX for "
        "nlu.featurizer.MiniLMFeaturizer (skipped when up to date).",
    )
    parser.add_argument("--data", type=Path, nargs="+", default=[DEFAULT_DATA], help="Rasa NLU files or folders")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"encoder directory (default: {DEFAULT_OUT})")
    parser.add_argument("--model", type=Path, default=None, help="local sentence-transformers model directory")
    parser.add_argument("--epochs", type=float, default=defaults.epochs, help="passes over the examples")
    parser.add_argument("--force", action="store_true", help="tune even if the export is up to date")
    args = parser.parse_args(argv)
    try:
        examples = read_rasa_nlu(args.data)
        result = build(examples, args.out, FineTuneSettings(epochs=args.epochs), args.model, force=args.force)
    except (FineTuneError, ExportError, EncoderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if result.train_seconds is None:
        print(f"{args.out} is up to date (tuned on the same {result.examples} examples); --force redoes it")
    else:
        print(
            f"fine-tuned on {result.examples} examples of {result.intents} intents ({result.steps} steps, "
            f"{result.train_seconds:.0f} s) and exported to {args.out} "
            f"(parity min cosine {result.export.manifest.parity_min_cosine:.6f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
