"""Exercises MiniLMFeaturizer inside the Rasa environment (Python 3.10) and prints what it saw as one JSON object.

Run by tests/nlu/test_featurizer.py with the Rasa environment's python:
`python rasa_featurizer_check.py ENCODER_DIR WORK_DIR`, with the repository root on PYTHONPATH. The checks that need
Rasa happen here; the assertions stay in the pytest test, so a failure there shows the numbers.
"""

import asyncio
import copy
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.common import class_from_module_path

from nlu.encoder import OnnxSentenceEncoder, read_manifest

TEXTS = [
    "Hi!",
    "How do I connect Orbitly to Slack?",
    "SSO/SAML set-up fails — help",
    "Café après 🚀 launch",
    "?!",
    "please " + "renew our Growth plan seats now " * 60,  # past 256 word pieces: the last tokens are truncated
]


def _pieces_mean(encoding: Any, start: int, end: int) -> np.ndarray:
    """The featurizer's alignment written out the slow, obvious way."""
    rows = [i for i, (s, e) in enumerate(encoding.offsets) if s < end and e > start]
    if not rows:
        return np.zeros(encoding.vectors.shape[1], dtype=np.float32)
    return encoding.vectors[rows].mean(axis=0)


def _features(message: Message) -> tuple[np.ndarray, np.ndarray]:
    sequence, sentence = message.get_dense_features(TEXT)
    return sequence.features, sentence.features


def _featurizer_checks(encoder_dir: Path) -> dict[str, Any]:
    featurizer_class = class_from_module_path("nlu.featurizer.MiniLMFeaturizer")
    registered = DefaultV1Recipe._registered_components.get(featurizer_class.__name__)
    config = {**featurizer_class.get_default_config(), "model_dir": str(encoder_dir), "batch_size": 4}
    featurizer = featurizer_class("minilm", config)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    encoder = OnnxSentenceEncoder(encoder_dir)

    training = TrainingData([Message(data={TEXT: text, INTENT: "any"}) for text in TEXTS])
    tokenizer.process_training_data(training)
    inference = [copy.deepcopy(message) for message in training.training_examples]
    for message in inference:
        message.features = []
    featurizer.process_training_data(training)
    featurizer.process(inference)

    encodings = encoder.encode_tokens(TEXTS)
    sentences = encoder.encode(TEXTS)
    messages = []
    for index, (trained, processed) in enumerate(zip(training.training_examples, inference)):
        sequence, sentence = _features(trained)
        tokens = trained.get("text_tokens")
        expected = np.stack([_pieces_mean(encodings[index], t.start, t.end) for t in tokens])
        processed_sequence, processed_sentence = _features(processed)
        messages.append(
            {
                "text": TEXTS[index][:40],
                "tokens": len(tokens),
                "sequence_shape": list(sequence.shape),
                "sentence_shape": list(sentence.shape),
                "sentence_cosine": float(sentence[0] @ sentences[index]),
                "alignment_error": float(np.abs(sequence - expected).max()),
                "zero_token_rows": int((~sequence.any(axis=1)).sum()),
                "process_vs_training_error": max(
                    float(np.abs(processed_sequence - sequence).max()),
                    float(np.abs(processed_sentence - sentence).max()),
                ),
            }
        )

    errors = {}
    for name, bad in {"batch_size": {"batch_size": 0}, "model_dir": {"model_dir": ""}}.items():
        try:
            featurizer_class.validate_config({**config, **bad})
        except InvalidConfigException as error:
            errors[name] = str(error)
    try:
        featurizer_class("minilm", {**config, "model_dir": str(encoder_dir / "missing")})
    except InvalidConfigException as error:
        errors["missing_export"] = str(error)

    return {
        "registered_as_featurizer": registered is not None
        and DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER in registered.types
        and not registered.is_trainable,
        "messages": messages,
        "fingerprint": featurizer_class.fingerprint_addon(config),
        "manifest_sha256": read_manifest(encoder_dir).model_sha256,
        "fingerprint_without_export": featurizer_class.fingerprint_addon({**config, "model_dir": "/nonexistent"}),
        "config_errors": errors,
    }


def _train_and_parse(encoder_dir: Path, work_dir: Path) -> dict[str, Any]:
    """A real `rasa train nlu` with the featurizer named by class path, then the model parses new messages."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = work_dir / "config.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            recipe: default.v1
            language: en
            assistant_id: featurizer-check
            pipeline:
              - name: WhitespaceTokenizer
              - name: nlu.featurizer.MiniLMFeaturizer
                model_dir: {encoder_dir}
              - name: DIETClassifier
                epochs: 40
                number_of_transformer_layers: 0
                entity_recognition: false
                random_seed: 1
            policies: []
            """
        )
    )
    data = work_dir / "nlu.yml"
    data.write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            nlu:
              - intent: greet
                examples: |
                  - hi
                  - hello there
                  - good morning
                  - hey
              - intent: billing
                examples: |
                  - where are my invoices
                  - change our payment method
                  - how much do we pay per seat
                  - update the credit card on file
            """
        )
    )
    model = train_nlu(str(config), str(data), str(work_dir / "models"))
    agent = Agent.load(model)
    parsed = {text: asyncio.run(agent.parse_message(text)) for text in ["hello!", "send me last month's invoice"]}
    return {text: result["intent"]["name"] for text, result in parsed.items()}


def main() -> None:
    encoder_dir, work_dir = Path(sys.argv[1]), Path(sys.argv[2])
    report = _featurizer_checks(encoder_dir)
    report["parsed_intents"] = _train_and_parse(encoder_dir, work_dir)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
