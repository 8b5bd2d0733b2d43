"""Exercises SentenceIntentClassifier inside the Rasa environment (Python 3.10) and prints what it saw as JSON.

Run by tests/nlu/test_classifier.py with the Rasa environment's python:
`python rasa_classifier_check.py ENCODER_DIR WORK_DIR`, with the repository root on PYTHONPATH. Real `rasa train nlu`
runs with the shipped pipeline's components; the assertions stay in the pytest test.
"""

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
import skops.io
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.common import class_from_module_path

CLASSIFIER = "nlu.classifier.SentenceIntentClassifier"
DATA = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hi
      - hello there
      - good morning
      - hey
      - hi team
  - intent: billing
    examples: |
      - where are my invoices
      - change our payment method
      - how much do we pay per seat
      - update the credit card on file
      - download last month's receipt
  - intent: integrations
    examples: |
      - connect orbitly to slack
      - set up the jira integration
      - does it work with github
      - link our google calendar
      - sync tasks with microsoft teams
"""
ONE_INTENT = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hi
      - hello
"""
QUERIES = ["hello!", "send me the invoice for march", "how do I hook it up to Slack", "", "hi"]


def _config(encoder_dir: Path, *options: str) -> str:
    """The shipped pipeline's NLU part with the encoder under test; `options` are extra classifier settings."""
    lines = [
        "recipe: default.v1",
        "language: en",
        "assistant_id: classifier-check",
        "pipeline:",
        "  - name: WhitespaceTokenizer",
        "  - name: nlu.featurizer.MiniLMFeaturizer",
        f"    model_dir: {encoder_dir}",
        "  - name: CountVectorsFeaturizer",
        f"  - name: {CLASSIFIER}",
        "    ranking_length: 0",
        *(f"    {option}" for option in options),
        "policies: []",
    ]
    return "\n".join(lines) + "\n"


def _train_and_parse(work_dir: Path, name: str, config: str, data: str) -> dict[str, Any]:
    """Train a model in its own folder, load it in a fresh Agent, parse QUERIES."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    folder = work_dir / name
    folder.mkdir()
    (folder / "config.yml").write_text(config)
    (folder / "nlu.yml").write_text(data)
    model = train_nlu(str(folder / "config.yml"), str(folder / "nlu.yml"), str(folder / "models"))
    agent = Agent.load(model)
    parsed = {}
    for text in QUERIES:
        result = asyncio.run(agent.parse_message(text))
        parsed[text] = {"intent": result["intent"], "ranking": result.get("intent_ranking", [])}
    return parsed


def _config_errors() -> dict[str, str]:
    classifier = class_from_module_path(CLASSIFIER)
    errors = {}
    for name, bad in {
        "C": {"C": 0},
        "sparse_weight": {"sparse_weight": -1},
        "ranking_length": {"ranking_length": "ten"},
        "max_iter": {"max_iter": True},
        "similarity_weight": {"similarity_weight": 1.5},
        "neighbours": {"neighbours": 0},
        "reference_quantile": {"reference_quantile": 1.5},
    }.items():
        try:
            classifier.validate_config({**classifier.get_default_config(), **bad})
        except InvalidConfigException as error:
            errors[name] = str(error)
    return errors


def _message(text: str, dense: list[float], words: list[int] | None, intent: str | None = None) -> Message:
    """A message with hand-made sentence features, as the featurizers would add them."""
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    message.add_features(Features(np.array([dense], dtype=np.float32), "sentence", TEXT, "dense"))
    if words is not None:
        message.add_features(Features(scipy.sparse.coo_matrix([words], dtype=np.float32), "sentence", TEXT, "words"))
    return message


def _feature_edge_cases(work_dir: Path) -> dict[str, Any]:
    """Messages without word features beside ones with them, a changed vocabulary, and damaged model files."""
    classifier = class_from_module_path(CLASSIFIER)
    (work_dir / "storage").mkdir()
    storage = LocalModelStorage(work_dir / "storage")
    component = classifier(classifier.get_default_config(), storage, Resource("clf"))
    training = [
        *(_message(f"a{i}", [1.0, 0.1 * i], [1, 0, 0], "left") for i in range(4)),
        *(_message(f"b{i}", [0.1 * i, 1.0], [0, 1, 0], "right") for i in range(4)),
    ]
    component.train(TrainingData(training))
    batch = [
        _message("x", [1.0, 0.0], [1, 0, 0]),
        _message("y", [0.0, 1.0], None),
        _message("z", [0.9, 0.1], [1, 0, 0]),
    ]
    component.process(batch)
    report: dict[str, Any] = {"mixed_batch": [m.get(INTENT)["name"] for m in batch]}
    # Off-topic for the examples (far from every one) yet further along "left" than any of them.
    off_topic = [_message("x", [1.0, 0.0], [1, 0, 0]), _message("v", [1.0, -1.0], [1, 0, 0])]
    component.process(off_topic)
    report["off_topic_confidence"] = [m.get(INTENT)["confidence"] for m in off_topic]
    without_vectors = {k: v for k, v in component._model.items() if not k.startswith("example_")}
    legacy = classifier(classifier.get_default_config(), storage, Resource("clf"), without_vectors)
    legacy_message = _message("x", [1.0, 0.0], [1, 0, 0])
    legacy.process([legacy_message])
    report["legacy_ranking"] = [item["confidence"] for item in legacy_message.get("intent_ranking")]
    try:
        component.process([_message("w", [1.0, 0.0], [1, 0, 0, 1])])
    except InvalidConfigException as error:
        report["changed_vocabulary"] = str(error)

    from nlu.classifier import _read_model

    damaged = work_dir / "damaged.skops"
    damaged.write_bytes(b"not a skops file")
    foreign = work_dir / "foreign.skops"
    skops.io.dump({"weights": [1, 2, 3]}, foreign)
    for name, path in {"damaged_file": damaged, "foreign_file": foreign}.items():
        try:
            _read_model(path)
        except InvalidConfigException as error:
            report[name] = str(error)
    return report


def main() -> None:
    encoder_dir, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    classifier = class_from_module_path(CLASSIFIER)
    registered = DefaultV1Recipe._registered_components.get(classifier.__name__)
    report = {
        "registered_as_classifier": registered is not None
        and DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER in registered.types
        and registered.is_trainable,
        "config_errors": _config_errors(),
        "shipped": _train_and_parse(work_dir, "shipped", _config(encoder_dir), DATA),
        "dense_only": _train_and_parse(work_dir, "dense", _config(encoder_dir, "sparse_weight: 0"), DATA),
        "probability": _train_and_parse(work_dir, "probability", _config(encoder_dir, "similarity_weight: 0"), DATA),
        "relative": _train_and_parse(work_dir, "relative", _config(encoder_dir, "reference_quantile: 0"), DATA),
        "one_intent": _train_and_parse(work_dir, "one", _config(encoder_dir), ONE_INTENT),
        "edge_cases": _feature_edge_cases(work_dir),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
