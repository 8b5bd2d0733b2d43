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

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.exceptions import InvalidConfigException
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
QUERIES = ["hello!", "send me the invoice for march", "how do I hook it up to Slack", ""]


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
    }.items():
        try:
            classifier.validate_config({**classifier.get_default_config(), **bad})
        except InvalidConfigException as error:
            errors[name] = str(error)
    return errors


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
        "one_intent": _train_and_parse(work_dir, "one", _config(encoder_dir), ONE_INTENT),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
