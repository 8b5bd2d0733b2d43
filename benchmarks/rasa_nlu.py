"""The NLU benchmark: the Rasa pipeline of `config.yml`, trained as `make train` trains the bot, on a dataset's train
split: `nlu.finetune` tunes the sentence encoder on the split's intents, then `rasa train nlu` trains the pipeline with
that encoder.

Training and prediction run as subprocesses of the Rasa (Python 3.10) environment, from the repository root so
custom components resolve; their output (Rasa's epoch bar, our prediction bar) streams to stderr and into a log.
"""

import codecs
import fcntl
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nlu.finetune import FineTuneSettings, build, read_rasa_nlu

from .datasets import Dataset, Example
from .metrics import THRESHOLD_CRITERION, Prediction, evaluate
from .report import BenchmarkResult, classifier_rows

FALLBACK_INTENT = "nlu_fallback"
PREDICT_SCRIPT = Path(__file__).resolve().with_name("rasa_predict.py")
SYSTEM = "Keepwell Rasa NLU (config.yml)"
_EPOCHS = re.compile(r"^(\s*(?:-\s+)?epochs:[ \t]*)\d+", re.MULTILINE)
_MODEL_DIR = re.compile(r"^(\s*(?:-\s+)?model_dir:[ \t]*)\S.*$", re.MULTILINE)
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" in training examples as entity annotations.
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?=\s*[({\[])")
_UNSAFE_INTENT_CHARS = re.compile(r"[^A-Za-z0-9_]+")
_TAIL_BYTES = 6000


class RasaError(RuntimeError):
    """A Rasa subprocess failed; the message holds the end of its output and the log's path."""


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock: a second run on the same dataset would empty the folder the first is training in."""
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RasaError(
                f"another benchmark run holds {lock_path}: wait for it, or pass another --work-dir"
            ) from None
        yield


@dataclass(frozen=True)
class RasaEnvironment:
    """How to run Rasa: its executable (its Python is beside it), the repository root, and the base environment."""

    rasa_bin: Path
    repo_root: Path
    env: Mapping[str, str]

    @property
    def python(self) -> Path:
        """The Python interpreter of the Rasa environment."""
        return Path(self.rasa_bin).parent / "python"

    def check(self) -> None:
        """Raise `RasaError` unless the executable and its Python exist."""
        for path in (Path(self.rasa_bin), self.python):
            if not path.is_file():
                raise RasaError(f"{path} not found: pass the Rasa environment's executable with --rasa-bin")


@dataclass(frozen=True)
class TrainedPipeline:
    """The pipeline trained on a dataset's train split, and its predictions for the validation and test queries.

    `test_raw` holds `rasa_predict.py`'s output for each test query; `setup` says how it was trained and queried.
    """

    val: list[Prediction]
    test: list[Prediction]
    test_raw: list[dict[str, Any]]
    train_seconds: float
    encoder_dir: Path
    setup: list[str]

    @property
    def latencies_ms(self) -> list[float]:
        """Per-query parse times of the test queries."""
        return [float(item["latency_ms"]) for item in self.test_raw]

    @property
    def fallback_rate(self) -> float:
        """How often config.yml's FallbackClassifier fired on test, as a percentage."""
        return 100 * sum(item.get("top_intent") == FALLBACK_INTENT for item in self.test_raw) / len(self.test_raw)


def run_nlu_benchmark(
    dataset: Dataset,
    rasa: RasaEnvironment,
    config_path: Path,
    work_dir: Path,
    epochs: int | None = None,
    encoder_cache: Path | None = None,
) -> BenchmarkResult:
    """Train the pipeline on train, choose the threshold on validation, score test.

    Args:
        dataset: the dataset (its out-of-scope examples train an out-of-scope intent).
        rasa: the Rasa environment.
        config_path: the Rasa config to train (the repository's config.yml).
        work_dir: a folder for training data, model, predictions and logs (emptied first).
        epochs: if given, a temporary copy of the config with every `epochs:` set to this is trained instead.
        encoder_cache: as for `train_and_predict`.
    """
    trained = train_and_predict(dataset, rasa, config_path, work_dir, epochs, encoder_cache)
    evaluation = evaluate(
        [e.label for e in dataset.val], trained.val, [e.label for e in dataset.test], trained.test, dataset.oos_label
    )
    rows = classifier_rows(
        SYSTEM, evaluation, trained.train_seconds, trained.latencies_ms, extra={"fallback_rate": trained.fallback_rate}
    )
    choice = evaluation.choice
    setup = [
        f"Dataset: {dataset.name} from `{dataset.source}`: {dataset.summary()}.",
        *dataset.notes,
        *trained.setup,
        f"Evaluation: the best intent other than `{FALLBACK_INTENT}` in `intent_ranking`, with its confidence "
        f"(config.yml's FallbackClassifier is not applied to scores; nlu_fallback % is how often it fired on test). "
        f"A query counts as out-of-scope when that intent is `{dataset.oos_label}` or its confidence is below the "
        f"threshold chosen on validation as the one with {THRESHOLD_CRITERION}. Nothing is chosen on test.",
    ]
    notes = [choice.note]
    if epochs is not None:
        notes.append(
            f"Shortened run: every `epochs:` in the config and the encoder's fine-tuning set to {epochs}; not the "
            "shipped configuration."
        )
    return BenchmarkResult(
        dataset=dataset.name,
        kind="nlu",
        title=f"{dataset.name}: Rasa NLU pipeline of config.yml",
        rows=rows,
        setup=setup,
        notes=notes,
    )


def train_and_predict(
    dataset: Dataset,
    rasa: RasaEnvironment,
    config_path: Path,
    work_dir: Path,
    epochs: int | None = None,
    encoder_cache: Path | None = None,
) -> TrainedPipeline:
    """Tune the encoder and train the pipeline on train as `make train` does, then parse every validation and test
    query alone. Arguments as for `run_nlu_benchmark`; `work_dir` is emptied first and locked while in use.

    With `encoder_cache`, the encoder is tuned into `<encoder_cache>/<dataset name>` and reused from there when its
    fingerprint (examples, settings, code, model) matches, so repeated runs measure score-side changes without
    tuning again; Train s then counts no tuning time."""
    rasa.check()
    work_dir.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(work_dir.parent / f"{work_dir.name}.lock"):
        if work_dir.exists():
            shutil.rmtree(work_dir)
        work_dir.mkdir()
        return _train_and_predict(dataset, rasa, config_path, work_dir, epochs, encoder_cache)


def _train_and_predict(
    dataset: Dataset,
    rasa: RasaEnvironment,
    config_path: Path,
    work_dir: Path,
    epochs: int | None,
    encoder_cache: Path | None,
) -> TrainedPipeline:
    names = intent_names(dataset.labels)
    labels_by_name = {name: label for label, name in names.items()}
    nlu_file = work_dir / "train.yml"
    nlu_file.write_text(nlu_yaml(dataset.train, names), encoding="utf-8")
    config_text = Path(config_path).read_text(encoding="utf-8")
    config_label = Path(config_path).name + (f", every `epochs:` set to {epochs} in a copy" if epochs else "")
    if epochs is not None:
        config_text = config_with_epochs(config_text, epochs)
    # The featurizer reads the encoder tuned on this split, never the bot's own data/encoder.
    encoder_dir = (encoder_cache / dataset.name if encoder_cache else work_dir / "encoder").resolve()
    config_path = work_dir / "config.yml"
    config_path.write_text(config_with_encoder(config_text, encoder_dir), encoding="utf-8")
    tuning = FineTuneSettings() if epochs is None else FineTuneSettings(epochs=epochs, min_steps=0)

    print(f"Training {SYSTEM} on {dataset.name}: {len(dataset.train):,} examples, {len(names)} intents", flush=True)
    started = time.perf_counter()
    tuned = build(read_rasa_nlu([nlu_file]), encoder_dir, tuning, force=encoder_cache is None)
    tune_seconds = 0.0 if tuned.export.skipped else time.perf_counter() - started
    steps = tuned.steps if tuned.steps is not None else (tuned.export.manifest.fine_tuning or {}).get("steps")
    tuning_note = f"reused from {encoder_dir}, not timed" if tuned.export.skipped else f"{tune_seconds:.0f} s"
    print(f"Encoder fine-tuned ({tuning_note}; {steps} steps); training the pipeline", flush=True)
    model, rasa_seconds = train_model(rasa, config_path, nlu_file, work_dir)
    train_seconds = tune_seconds + rasa_seconds
    print(f"Trained in {train_seconds:.0f}s; predicting {len(dataset.val) + len(dataset.test):,} queries", flush=True)
    texts = [example.text for example in (*dataset.val, *dataset.test)]
    raw = predict(rasa, model, texts, work_dir)
    predictions = [_as_prediction(item, labels_by_name, dataset.oos_label) for item in raw]
    setup = [
        f"Pipeline ({config_label}): {pipeline_summary(config_text)}.",
        f"Training, as `make train` does it: `python -m nlu.finetune` tunes the sentence encoder on the train split "
        f"({steps} steps of {tuning.batch_size} examples; {tuning_note}, including its ONNX export), then "
        f"`rasa train nlu` (Rasa environment `{rasa.rasa_bin}`) trains the pipeline with it from the repository root "
        f"and an empty Rasa cache ({rasa_seconds:.0f} s: process start, featurisation, classifier). Train s is the "
        "sum of both wall times.",
        "Prediction: each validation and test query parsed alone through the trained model "
        "(`Agent.parse_message`, after one warm-up query); p50/p95 ms are over the test queries.",
    ]
    return TrainedPipeline(
        val=predictions[: len(dataset.val)],
        test=predictions[len(dataset.val) :],
        test_raw=raw[len(dataset.val) :],
        train_seconds=train_seconds,
        encoder_dir=encoder_dir,
        setup=setup,
    )


def intent_names(labels: Sequence[str]) -> dict[str, str]:
    """A Rasa-safe intent name for each label: letters, digits and underscores, unique.

    Rasa treats "/" in an intent as a retrieval intent and other characters can upset its YAML, so dataset labels
    such as "card arrival" become "card_arrival"; labels that are safe already keep their name.
    """
    unique = sorted(set(labels))
    # Safe labels keep their name even when an unsafe one ("card arrival") would map onto it.
    names = {label: label for label in unique if _is_safe_intent(label)}
    taken = set(names.values())
    for label in unique:
        if label in names:
            continue
        base = _UNSAFE_INTENT_CHARS.sub("_", label).strip("_") or "intent"
        name, number = base, 1
        while name in taken or name == FALLBACK_INTENT:
            number += 1
            name = f"{base}_{number}"
        names[label] = name
        taken.add(name)
    return dict(sorted(names.items()))


def _is_safe_intent(label: str) -> bool:
    return label != FALLBACK_INTENT and not _UNSAFE_INTENT_CHARS.search(label)


def nlu_yaml(examples: Sequence[Example], names: Mapping[str, str]) -> str:
    """Rasa 3 NLU training data: one block per intent, in label order, examples in file order.

    Bracketed text that Rasa would read as an entity annotation gets parentheses instead of brackets.
    """
    by_label: dict[str, list[str]] = {}
    for example in examples:
        text = _ENTITY_MARKUP.sub(r"(\1)", " ".join(example.text.split()))
        by_label.setdefault(example.label, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for label in sorted(by_label):
        lines += [f"- intent: {names[label]}", "  examples: |"]
        lines += [f"    - {text}" for text in by_label[label]]
    return "\n".join(lines) + "\n"


def config_with_epochs(config_text: str, epochs: int) -> str:
    """The config with every `epochs:` value set to `epochs`; comments and everything else unchanged.

    Raises:
        ValueError: `epochs` < 1, or the config sets no epochs.
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    changed, count = _EPOCHS.subn(rf"\g<1>{epochs}", config_text)
    if count == 0:
        raise ValueError("the config sets no `epochs:` to override")
    return changed


def config_with_encoder(config_text: str, model_dir: Path) -> str:
    """The config with every `model_dir:` (the MiniLM featurizer's) pointing at `model_dir`.

    Raises:
        ValueError: the config sets no `model_dir:`, so the pipeline would not use the tuned encoder.
    """
    changed, count = _MODEL_DIR.subn(lambda match: match.group(1) + json.dumps(str(model_dir)), config_text)
    if count == 0:
        raise ValueError("the config sets no `model_dir:` for the sentence encoder")
    return changed


def pipeline_summary(config_text: str) -> str:
    """The pipeline's components with all their options, e.g. "WhitespaceTokenizer, DIETClassifier (epochs 60,
    constrain_similarities True), FallbackClassifier (threshold 0.55)": the report says exactly what was trained."""
    config = yaml.safe_load(config_text) or {}
    parts = []
    for component in config.get("pipeline") or []:
        if not isinstance(component, dict):
            continue
        options = [f"{key} {value}" for key, value in component.items() if key != "name"]
        parts.append(str(component.get("name")) + (f" ({', '.join(options)})" if options else ""))
    return ", ".join(parts) or "no pipeline"


def train_model(rasa: RasaEnvironment, config_path: Path, nlu_file: Path, work_dir: Path) -> tuple[Path, float]:
    """Run `rasa train nlu` and return the model's path and the command's wall time in seconds.

    The Rasa cache lives in the work folder and starts empty: a warm cache would skip training.
    """
    cache = work_dir / "rasa-cache"
    shutil.rmtree(cache, ignore_errors=True)
    models = work_dir / "models"
    argv = [str(rasa.rasa_bin), "train", "nlu", "--config", str(Path(config_path).resolve())]
    argv += ["--nlu", str(nlu_file.resolve()), "--out", str(models.resolve()), "--fixed-model-name", "benchmark"]
    started = time.perf_counter()
    run_streaming(argv, rasa, work_dir / "train.log", cache)
    seconds = time.perf_counter() - started
    shutil.rmtree(cache, ignore_errors=True)  # it holds featurised training data nobody reads again
    model = models / "benchmark.tar.gz"
    if not model.is_file():
        raise RasaError(f"rasa train nlu wrote no model at {model}; see {work_dir / 'train.log'}")
    return model, seconds


def predict(rasa: RasaEnvironment, model: Path, texts: Sequence[str], work_dir: Path) -> list[dict[str, Any]]:
    """Parse each text alone with `rasa_predict.py` in the Rasa environment; one dict per text, in order."""
    inputs, outputs = work_dir / "queries.jsonl", work_dir / "predictions.jsonl"
    inputs.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts), encoding="utf-8")
    outputs.unlink(missing_ok=True)
    argv = [str(rasa.python), str(PREDICT_SCRIPT), "--model", str(model.resolve())]
    argv += ["--input", str(inputs.resolve()), "--output", str(outputs.resolve())]
    run_streaming(argv, rasa, work_dir / "predict.log", work_dir / "rasa-cache")
    lines = outputs.read_text(encoding="utf-8").splitlines()
    if len(lines) != len(texts):
        raise RasaError(f"{outputs}: {len(lines)} predictions for {len(texts)} queries")
    return [json.loads(line) for line in lines]


def run_streaming(argv: Sequence[str], rasa: RasaEnvironment, log_path: Path, cache_dir: Path) -> None:
    """Run a command from the repository root, copying its output to stderr and to `log_path` as it comes.

    Raises:
        RasaError: it exited with a non-zero status.
    """
    env = dict(rasa.env)
    env.update(
        {
            "RASA_CACHE_DIRECTORY": str(cache_dir.resolve()),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
            # Rasa 3.6's dependencies print pages of deprecation warnings that hide the progress bars.
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    tail = b""
    with (
        log_path.open("wb") as log,
        subprocess.Popen(  # noqa: S603 - the Rasa environment's own executables, arguments built here
            list(argv), cwd=rasa.repo_root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        # read1 returns what is there now: tqdm redraws with "\r", never a newline, so lines would stall.
        while chunk := process.stdout.read1(65536):
            log.write(chunk)
            log.flush()  # so the log can be followed while Rasa trains
            sys.stderr.write(decoder.decode(chunk))
            sys.stderr.flush()
            tail = (tail + chunk)[-_TAIL_BYTES:]
        code = process.wait()
    if code != 0:
        output = tail.decode("utf-8", errors="replace").replace("\r", "\n")
        raise RasaError(f"{' '.join(argv[:3])} ... exited with status {code}; full log: {log_path}\n{output}")


def _as_prediction(item: Mapping[str, Any], labels_by_name: Mapping[str, str], oos_label: str) -> Prediction:
    name = item.get("intent")
    if not name:  # nothing but nlu_fallback: treat as out-of-scope with no confidence
        return Prediction(oos_label, 0.0)
    return Prediction(labels_by_name.get(str(name), str(name)), float(item.get("confidence") or 0.0))
