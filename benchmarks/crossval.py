"""`python -m benchmarks crossval`: the bot's own NLU data (bot/nlu) in stratified 5-fold cross-validation, each fold
trained as `make train` trains the bot, and the FallbackClassifier threshold chosen on the held-out predictions by the
product's rule.

bot/nlu has no validation split and no out-of-scope examples. The rule (`metrics.MAX_IN_SCOPE_LOSS`) takes the most
out-of-scope recall for at most 0.5 points of in-scope accuracy; without out-of-scope examples a higher threshold can
only catch more of them, so its choice here is the highest threshold that loses at most 0.5 points of the held-out
accuracy against none. Each fold's encoder is tuned on that fold's training part alone, so no held-out example has
shaped the vectors it is scored with.
"""

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nlu.finetune import FineTuneSettings, IntentExample, build, read_rasa_nlu

from .datasets import Example
from .metrics import MAX_IN_SCOPE_LOSS
from .rasa_nlu import (
    FALLBACK_INTENT,
    RasaEnvironment,
    config_with_encoder,
    intent_names,
    nlu_yaml,
    pipeline_summary,
    predict,
    train_model,
)
from .report import BenchmarkResult, Row

FOLDS = 5
SEED = 42
SYSTEM = "Keepwell bot NLU (config.yml), 5-fold cross-validation"


@dataclass(frozen=True)
class HeldOut:
    """One held-out example: its gold intent, the best non-fallback intent and confidence, and the runner-up's."""

    gold: str
    intent: str | None
    confidence: float
    runner_up: float | None


def stratified_folds(examples: Sequence[IntentExample], count: int = FOLDS, seed: int = SEED) -> list[list[int]]:
    """Indices of `examples` dealt into `count` folds, each intent's examples shuffled and spread evenly."""
    by_intent: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_intent[example.intent].append(i)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    folds: list[list[int]] = [[] for _ in range(count)]
    dealt = 0
    for intent in sorted(by_intent):
        indices = by_intent[intent]
        rng.shuffle(indices)
        for index in indices:
            folds[dealt % count].append(index)
            dealt += 1
    return [sorted(fold) for fold in folds]


def highest_threshold_within(held_out: Sequence[HeldOut], budget: float = MAX_IN_SCOPE_LOSS) -> float | None:
    """The highest confidence threshold whose held-out accuracy is at most `budget` points below no threshold's.

    Candidates are the midpoints below each distinct confidence, as `metrics.choose_threshold` tries them; None when
    even the lowest would cost more than the budget.
    """
    correct = np.array([item.intent == item.gold for item in held_out])
    confidence = np.array([item.confidence for item in held_out])
    base = 100 * correct.mean()
    distinct = np.unique(confidence)
    best = None
    for threshold in ((distinct[1:] + distinct[:-1]) / 2).tolist():
        if 100 * (correct & (confidence >= threshold)).mean() >= base - budget - 1e-9:
            best = threshold
    return best


def outcomes(held_out: Sequence[HeldOut], threshold: float | None, ambiguity: float | None) -> dict[str, float]:
    """Percentages of held-out messages answered with the right intent, answered wrongly, and sent to the fallback
    (confidence below `threshold`, or the runner-up within `ambiguity`), as Rasa's FallbackClassifier decides."""
    right = wrong = fallback = 0
    for item in held_out:
        ambiguous = (
            ambiguity is not None and item.runner_up is not None and item.confidence - item.runner_up < ambiguity
        )
        if item.intent is None or (threshold is not None and item.confidence < threshold) or ambiguous:
            fallback += 1
        elif item.intent == item.gold:
            right += 1
        else:
            wrong += 1
    total = len(held_out)
    return {"right": 100 * right / total, "wrong": 100 * wrong / total, "fallback": 100 * fallback / total}


def tune_folds(examples: Sequence[IntentExample], work_dir: Path) -> list[Path]:
    """Each fold's encoder, tuned on the other folds (skipped when its export is up to date)."""
    encoders = []
    for number, fold in enumerate(stratified_folds(examples), start=1):
        held = set(fold)
        train = [e for i, e in enumerate(examples) if i not in held]
        encoder = (work_dir / f"fold{number}" / "encoder").resolve()
        print(f"Fold {number}/{FOLDS}: tuning the encoder on {len(train)} examples", flush=True)
        build(train, encoder, FineTuneSettings())
        encoders.append(encoder)
    return encoders


def run_crossval(
    data_paths: Sequence[Path], rasa: RasaEnvironment, config_path: Path, work_dir: Path
) -> BenchmarkResult:
    """Tune, train and parse each fold, then choose the threshold on all held-out predictions together."""
    rasa.check()
    examples = read_rasa_nlu(data_paths)
    config_text = Path(config_path).read_text(encoding="utf-8")
    started = time.perf_counter()
    encoders = tune_folds(examples, work_dir)
    held_out: list[HeldOut] = []
    for number, (fold, encoder) in enumerate(zip(stratified_folds(examples), encoders, strict=True), start=1):
        held_out += _train_and_parse(examples, set(fold), encoder, config_text, rasa, work_dir / f"fold{number}")
    seconds = time.perf_counter() - started
    shipped = _fallback_settings(config_text)
    chosen = highest_threshold_within(held_out)
    rows = []
    for label, threshold in (("threshold chosen by the rule", chosen), ("config.yml's threshold", shipped[0])):
        result = outcomes(held_out, threshold, shipped[1])
        values = {"accuracy": result["right"], "wrong_rate": result["wrong"], "fallback_rate": result["fallback"]}
        rows.append(Row(f"{SYSTEM}, {label}", "this run", {**values, "threshold": threshold, "train_seconds": seconds}))
    bare = outcomes(held_out, None, None)
    setup = [
        f"Data: {', '.join(map(str, data_paths))}: {len(examples)} examples of {len({e.intent for e in examples})} "
        f"intents, dealt into {FOLDS} stratified folds (seed {SEED}); each fold is held out once.",
        f"Pipeline ({Path(config_path).name}): {pipeline_summary(config_text)}.",
        "Each fold: `nlu.finetune` tunes the encoder on the other four folds, `rasa train nlu` trains the pipeline "
        "with it, and every held-out example is parsed alone. Train s: all folds, tuning, training and parsing.",
        f"Without a threshold or ambiguity check the held-out accuracy is {bare['right']:.2f} %.",
        f"Rule: the highest threshold on the confidence losing at most {MAX_IN_SCOPE_LOSS} points of that accuracy "
        "(bot/nlu has no out-of-scope examples, so a higher threshold only catches more of them).",
        f"Rows: right %, answered wrongly % and nlu_fallback % of held-out messages with the threshold and "
        f"config.yml's ambiguity_threshold ({shipped[1]}) applied as Rasa's FallbackClassifier applies them.",
    ]
    return BenchmarkResult(
        dataset="keepwell", kind="crossval", title="Keepwell bot NLU: 5-fold cross-validation and the fallback "
        "threshold", rows=rows, setup=setup,
    )  # fmt: skip


def _train_and_parse(
    examples: Sequence[IntentExample],
    held: set[int],
    encoder: Path,
    config_text: str,
    rasa: RasaEnvironment,
    fold_dir: Path,
) -> list[HeldOut]:
    train = [Example(e.text, e.intent) for i, e in enumerate(examples) if i not in held]
    test = [examples[i] for i in sorted(held)]
    rasa_dir = fold_dir / "rasa"
    rasa_dir.mkdir(parents=True, exist_ok=True)
    nlu_file = rasa_dir / "train.yml"
    nlu_file.write_text(nlu_yaml(train, intent_names([e.label for e in train])), encoding="utf-8")
    config_path = rasa_dir / "config.yml"
    config_path.write_text(config_with_encoder(config_text, encoder), encoding="utf-8")
    model, _ = train_model(rasa, config_path, nlu_file, rasa_dir)
    raw = predict(rasa, model, [e.text for e in test], rasa_dir)
    return [_held_out(example.intent, item) for example, item in zip(test, raw, strict=True)]


def _held_out(gold: str, item: dict[str, Any]) -> HeldOut:
    ranking = [entry for entry in item.get("ranking") or [] if entry[0] != FALLBACK_INTENT]
    runner_up = float(ranking[1][1]) if len(ranking) > 1 else None
    return HeldOut(gold, item.get("intent"), float(item.get("confidence") or 0.0), runner_up)


def _fallback_settings(config_text: str) -> tuple[float | None, float | None]:
    """config.yml's FallbackClassifier threshold and ambiguity_threshold (None when it has none)."""
    for component in (yaml.safe_load(config_text) or {}).get("pipeline") or []:
        if isinstance(component, dict) and component.get("name") == "FallbackClassifier":
            return component.get("threshold"), component.get("ambiguity_threshold")
    return None, None
