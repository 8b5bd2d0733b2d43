"""`SentenceIntentClassifier`: logistic regression over a message's dense sentence vector and its TF-IDF words.

Used in config.yml as `- name: nlu.classifier.SentenceIntentClassifier`, after `nlu.featurizer.MiniLMFeaturizer` (the
dense sentence vector, from the encoder fine-tuned on the bot's intents by `python -m nlu.finetune`) and a
`CountVectorsFeaturizer` (word counts). It is SetFit's second stage (Tunstall et al. 2022: a contrastively tuned
sentence encoder, then a logistic-regression head), with the words beside the vector: on CLINC150's validation split
the words added 0.2 points of in-scope accuracy. Word counts are turned into sublinear, L2-normalised TF-IDF first, so
a long message's counts do not drown the unit-length sentence vector.

The confidence it reports for each intent is not the bare probability but its mean with the cosine similarity of the
message to the nearest training example of that intent (`nlu.neighbours`): the probability says which intent is
nearest, the similarity whether the message is near anything the bot was taught, so Rasa's FallbackClassifier
threshold catches off-topic questions the probability alone is sure about. With `reference_quantile` the similarity is
taken relative to how tightly the intent's own examples cluster (`nlu.neighbours.relative`), so one threshold suits
tight and spread intents alike. The ranking stays in order of probability, so the predicted intent is the logistic
regression's.

It replaced DIET, which spent about 13 s per epoch on CLINC150's 15k examples (60 epochs); the logistic regression
fits in about 2.5 minutes there with the Rasa environment's scikit-learn 1.1. The measurements are in
benchmarks/README.md.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.neighbours import ExampleNeighbours, blend, relative

logger = logging.getLogger(__name__)

_MODEL_FILE = "sentence_intent_classifier.skops"
# skops loads only types it knows to be safe; scikit-learn 1.1's TfidfTransformer keeps its IDF weights in this one.
_TRUSTED_TYPES = ["scipy.sparse._csr.csr_matrix"]
_NO_INTENT = {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(IntentClassifier, GraphComponent):
    """Predicts the intent and a ranking of intents with probabilities that sum to 1 over all intents."""

    @classmethod
    def required_components(cls) -> list[type]:
        """The dense sentence vector is required; sparse word features are used when a featurizer adds them."""
        return [DenseFeaturizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component imports."""
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`C`: inverse regularisation (higher fits the training examples more closely); `sparse_weight`: how much
        the TF-IDF words count beside the sentence vector (0 ignores them); `ranking_length`: intents reported in
        `intent_ranking` (0: all); `similarity_weight`: the share of the neighbour similarity in the reported confidence
        (0: the probability alone); `neighbours`: how many nearest examples of an intent the similarity averages;
        `reference_quantile`: if set, each intent's similarity is moved by this quantile of its own examples'
        leave-one-out similarities (0: its loosest example's), None: the raw similarity."""
        return {
            "C": 10.0,
            "sparse_weight": 1.0,
            "max_iter": 1000,
            "ranking_length": 10,
            "random_seed": 42,
            "similarity_weight": 0.5,
            "neighbours": 1,
            "reference_quantile": None,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Rejects settings that would fail only after featurizing the whole training set."""
        for key, minimum in (("C", 0.0), ("sparse_weight", None)):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidConfigException(f"{cls.__name__}: '{key}' must be a non-negative number, got {value!r}")
            if minimum is not None and value <= minimum:
                raise InvalidConfigException(f"{cls.__name__}: '{key}' must be positive, got {value!r}")
        for key in ("max_iter", "ranking_length"):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidConfigException(f"{cls.__name__}: '{key}' must be a non-negative integer, got {value!r}")
        weight = config.get("similarity_weight", 0.5)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise InvalidConfigException(f"{cls.__name__}: 'similarity_weight' must lie in [0, 1], got {weight!r}")
        neighbours = config.get("neighbours", 1)
        if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 1:
            raise InvalidConfigException(f"{cls.__name__}: 'neighbours' must be a positive integer, got {neighbours!r}")
        quantile = config.get("reference_quantile")
        numeric = isinstance(quantile, (int, float)) and not isinstance(quantile, bool)
        if quantile is not None and not (numeric and 0 <= quantile <= 1):
            raise InvalidConfigException(
                f"{cls.__name__}: 'reference_quantile' must be null or lie in [0, 1], got {quantile!r}"
            )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceIntentClassifier:
        """Creates an untrained component (see `GraphComponent.create`)."""
        cls.validate_config(config)
        return cls(config, model_storage, resource)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # {"classifier": fitted estimator, "tfidf": fitted TfidfTransformer or None, "sparse_width", "example_vectors",
        # "example_intents"}; None until trained.
        self._model = model
        self._neighbours: ExampleNeighbours | None = None
        self._reference: np.ndarray | None = None

    def train(self, training_data: TrainingData) -> Resource:
        """Fits TF-IDF weights and the logistic regression on every example that has an intent and text."""
        from sklearn.dummy import DummyClassifier
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        if not examples:
            logger.warning(f"{type(self).__name__}: no intent examples to train on; it will predict no intent")
            return self._resource
        dense = self._dense(examples)
        tfidf, words, width = None, None, None
        widths = {m.get_sparse_features(TEXT)[1].features.shape[1] for m in examples if _has_sparse(m)}
        if widths and self._config["sparse_weight"] > 0:
            width = max(widths)
            missing = sum(not _has_sparse(m) for m in examples)
            if missing:
                logger.warning(f"{type(self).__name__}: {missing} examples have no word features; they count as none")
            words = self._sparse(examples, width)
            tfidf = TfidfTransformer(sublinear_tf=True).fit(words)
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            # Logistic regression needs two classes; a one-intent bot always predicts that intent.
            classifier: Any = DummyClassifier(strategy="most_frequent")
        else:
            classifier = LogisticRegression(
                C=float(self._config["C"]), max_iter=self._config["max_iter"], random_state=self._config["random_seed"]
            )
        classifier.fit(self._matrix(dense, words, tfidf), labels)
        # The examples' vectors, kept for the neighbour similarity; float32 halves the file (CLINC150: 23 MB).
        index = {str(label): i for i, label in enumerate(classifier.classes_)}
        self._model = {
            "classifier": classifier,
            "tfidf": tfidf,
            "sparse_width": width,
            "example_vectors": dense.astype(np.float32),
            "example_intents": np.array([index[str(label)] for label in labels], dtype=np.int64),
        }
        self._persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets `intent` and `intent_ranking` on each message; a message without features gets no intent."""
        todo = [m for m in messages if m.get_dense_features(TEXT)[1] is not None]
        featurized = {id(m) for m in todo}
        for message in messages:
            if self._model is None or id(message) not in featurized:
                message.set(INTENT, dict(_NO_INTENT), add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        if self._model is None or not todo:
            return messages
        tfidf = self._model["tfidf"]
        words = self._sparse(todo, self._model["sparse_width"]) if tfidf is not None else None
        classifier = self._model["classifier"]
        dense = self._dense(todo)
        probabilities = classifier.predict_proba(self._matrix(dense, words, tfidf))
        confidences = self._confidences(probabilities, dense)
        intents = [str(label) for label in classifier.classes_]
        ranking_length = self._config["ranking_length"] or len(intents)
        for message, row, confidence in zip(todo, probabilities, confidences, strict=True):
            order = np.argsort(-row, kind="stable")[:ranking_length]
            ranking = [{INTENT_NAME_KEY: intents[i], PREDICTED_CONFIDENCE_KEY: float(confidence[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def _confidences(self, probabilities: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """The probabilities blended with the neighbour similarity; a model saved without example vectors (trained
        before they were kept) reports the probabilities."""
        assert self._model is not None
        weight = float(self._config["similarity_weight"])
        if weight == 0 or "example_vectors" not in self._model:
            return probabilities
        if self._neighbours is None:
            self._neighbours = ExampleNeighbours(
                self._model["example_vectors"], self._model["example_intents"], probabilities.shape[1],
                k=int(self._config["neighbours"]),
            )  # fmt: skip
            quantile = self._config["reference_quantile"]
            # Computed from the kept example vectors when first needed, so models trained before it still work.
            if quantile is not None:
                self._reference = self._neighbours.reference(float(quantile))
        similarity = self._neighbours.similarity(dense)
        if self._reference is not None:
            similarity = relative(similarity, self._reference)
        return blend(probabilities, similarity, weight)

    def _dense(self, messages: list[Message]) -> np.ndarray:
        """(messages, dimension) dense sentence vectors."""
        rows = []
        for message in messages:
            dense = message.get_dense_features(TEXT)[1]
            if dense is None:
                raise InvalidConfigException(
                    f"{type(self).__name__} needs dense sentence features: put a dense featurizer such as "
                    "nlu.featurizer.MiniLMFeaturizer before it in the pipeline"
                )
            rows.append(dense.features.reshape(1, -1))
        return np.vstack(rows)

    def _sparse(self, messages: list[Message], width: int) -> scipy.sparse.csr_matrix:
        """(messages, width) word counts; a message without any counts as having no known words."""
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(TEXT)[1]
            row = sparse.features if sparse is not None else scipy.sparse.csr_matrix((1, width))
            if row.shape[1] != width:
                raise InvalidConfigException(
                    f"{type(self).__name__} was trained on {width} word features but got {row.shape[1]}: the "
                    "pipeline changed since training; train the model again"
                )
            rows.append(row)
        return scipy.sparse.vstack(rows).tocsr()

    def _matrix(self, dense: np.ndarray, words: scipy.sparse.csr_matrix | None, tfidf: Any) -> Any:
        if tfidf is None or words is None:
            return dense
        weighted = tfidf.transform(words) * float(self._config["sparse_weight"])
        return scipy.sparse.hstack([scipy.sparse.csr_matrix(dense), weighted]).tocsr()

    def _persist(self) -> None:
        import skops.io

        with self._model_storage.write_to(self._resource) as directory:
            skops.io.dump(self._model, directory / _MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceIntentClassifier:
        """Loads the trained classifier; an untrained one (no intent examples) loads empty and predicts nothing."""
        with ExitStack() as stack:
            try:
                directory = stack.enter_context(model_storage.read_from(resource))
            except ValueError:  # Rasa's storage raises this when the component persisted nothing
                logger.debug(f"{cls.__name__}: no trained model in {resource.name}; it will predict no intent")
                return cls(config, model_storage, resource, None)
            model = _read_model(directory / _MODEL_FILE)
        return cls(config, model_storage, resource, model)


def _has_sparse(message: Message) -> bool:
    return message.get_sparse_features(TEXT)[1] is not None


def _read_model(path: Path) -> dict[str, Any]:
    """The persisted model; anything beyond skops' safe types and ours is refused, so a tampered file fails here."""
    import skops.io

    try:
        untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(_TRUSTED_TYPES))
        if not untrusted:
            model = skops.io.load(path, trusted=_TRUSTED_TYPES)
    except Exception as error:  # skops raises many kinds for a damaged or foreign file
        raise InvalidConfigException(f"cannot load the intent classifier from {path}: {error}") from error
    if untrusted:
        raise InvalidConfigException(f"{path} holds types that are not trusted: {untrusted}")
    if not isinstance(model, dict) or "classifier" not in model:
        raise InvalidConfigException(f"{path} does not hold a SentenceIntentClassifier model")
    return model
