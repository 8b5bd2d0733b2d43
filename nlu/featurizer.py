"""`MiniLMFeaturizer`: dense MiniLM sentence and sequence features for Rasa 3.6 NLU pipelines.

Used in config.yml after a tokenizer as `- name: nlu.featurizer.MiniLMFeaturizer`; Rasa imports it from the working
directory, so the Rasa server and `rasa train` run from the repository root. It runs the ONNX export written by
`python -m nlu.finetune` (or, untuned, `python -m nlu.export`; no torch in the Rasa environment) and gives each
message its sentence vector, plus one vector per token for components that read sequences (DIET, TED).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.encoder import EncoderError, OnnxSentenceEncoder, read_manifest

logger = logging.getLogger(__name__)

# Messages are encoded this many at a time, so the word-piece vectors of a 15k-example training set never all sit in
# memory at once; the encoder still sorts each chunk by length into batches of `batch_size`.
_CHUNK = 2048


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds all-MiniLM-L6-v2 features to every message's text (and response and action text, as Rasa's own do).

    Sentence features: the normalised mean-pooled embedding, shape (1, 384). Sequence features: for each token of
    the pipeline's tokenizer, the mean of the MiniLM word-piece vectors that overlap it, shape (tokens, 384).
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Sequence features are aligned to the tokens of the pipeline's tokenizer."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config: `model_dir` is relative to the working directory."""
        return {**DenseFeaturizer.get_default_config(), "model_dir": "data/encoder", "batch_size": 64}

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component imports."""
        return ["onnxruntime", "tokenizers"]

    @staticmethod
    def supported_languages() -> list[str] | None:
        """all-MiniLM-L6-v2 was trained on English only."""
        return ["en"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Checks `model_dir` and `batch_size` (the encoder files are checked when the component is created)."""
        model_dir, batch_size = config.get("model_dir"), config.get("batch_size")
        if not isinstance(model_dir, str) or not model_dir.strip():
            raise InvalidConfigException(f"{cls.__name__}: 'model_dir' must be a directory path, got {model_dir!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidConfigException(f"{cls.__name__}: 'batch_size' must be a positive integer, got {batch_size!r}")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The exported model's hash: Rasa's training cache must not reuse features computed by another export."""
        try:
            return read_manifest(Path(config["model_dir"])).model_sha256
        except (EncoderError, KeyError):
            return None  # creating the component reports the missing export

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Creates the component and loads the encoder (see `GraphComponent.create`)."""
        return cls(execution_context.node_name, config)

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        """Loads the encoder now, so a missing export fails at start-up rather than on the first message.

        Raises:
            InvalidConfigException: `model_dir` holds no usable export.
        """
        super().__init__(name, config)
        self._batch_size = int(self._config["batch_size"])
        self._encoder = OnnxSentenceEncoder(self._config["model_dir"])
        try:
            self._encoder.load()
        except EncoderError as error:
            raise InvalidConfigException(f"{type(self).__name__}: {error}") from error

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example's text, response and action text."""
        started = time.perf_counter()
        count = self._featurize(training_data.training_examples, DENSE_FEATURIZABLE_ATTRIBUTES)
        logger.debug(f"{self._identifier}: featurized {count} texts in {time.perf_counter() - started:.1f} s")
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes the text and action text of incoming messages, all of them in batches."""
        self._featurize(messages, (TEXT, ACTION_TEXT))
        return messages

    def _featurize(self, messages: Sequence[Message], attributes: Iterable[str]) -> int:
        count = 0
        for attribute in attributes:
            # A message without tokens for the attribute cannot get aligned sequence features; its tokenizer
            # skipped it, and so do we.
            todo = [m for m in messages if m.get(attribute) and m.get(TOKENS_NAMES[attribute]) is not None]
            for start in range(0, len(todo), _CHUNK):
                chunk = todo[start : start + _CHUNK]
                encodings = self._encoder.encode_tokens([m.get(attribute) for m in chunk], self._batch_size)
                for message, encoding in zip(chunk, encodings, strict=True):
                    spans = [(token.start, token.end) for token in message.get(TOKENS_NAMES[attribute])]
                    self.add_features_to_message(
                        sequence=encoding.span_vectors(spans),
                        sentence=encoding.sentence.reshape(1, -1),
                        attribute=attribute,
                        message=message,
                    )
            count += len(todo)
        return count
