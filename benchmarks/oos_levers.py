"""Out-of-scope scores measured beside the shipped confidence (`python -m benchmarks oos --levers`): each keeps the
trained pipeline's labels and replaces its confidence with another score, so a threshold on it can be compared with
the shipped one under the same rules. Measured, not shipped.

The shipped confidence is `nlu.neighbours.blend` of the classifier's probability and the tuned encoder's similarity to
the predicted intent's nearest training example (moved by the intent's own spread, `nlu.neighbours.relative`, when the
config sets `reference_quantile`). The probability is recovered from it here (the similarity is recomputed with the
same encoder export and `ExampleNeighbours`), so the levers need no second Rasa run.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlu.neighbours import ExampleNeighbours, blend, relative

from .metrics import Prediction
from .oos import OosDataset, choose_mcc_threshold

WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))
LEVERS = {
    "probability": "Lever: the classifier's probability alone (the confidence before similarity_weight)",
    "knn5": "Lever: probability blended with the mean similarity to the intent's 5 nearest examples",
    "mahalanobis": "Lever: Mahalanobis distance to the nearest intent's mean (tied covariance, tuned vectors)",
    "stock3": "Lever: mean of probability, tuned similarity and stock-MiniLM neighbour similarity",
    "weight": "Lever: probability and similarity weighted as chosen on validation",
    "raw": "Lever: probability blended with the raw nearest similarity (no per-intent reference)",
}


@dataclass(frozen=True)
class LeverScores:
    """For every validation and test query (in that order), each lever's score; `note` says what was chosen."""

    scores: dict[str, np.ndarray]
    note: str


def lever_scores(
    data: OosDataset,
    labels: Sequence[str],
    confidence: np.ndarray,
    train_vectors: np.ndarray,
    query_vectors: np.ndarray,
    stock_similarity: np.ndarray,
    similarity_weight: float,
    reference_quantile: float | None = None,
) -> LeverScores:
    """The scores of `LEVERS` for the pipeline's `labels` and shipped `confidence` of the validation and test queries.

    Args:
        data: the dataset (its train examples are the classifier's).
        labels: the pipeline's label for each validation and test query.
        confidence: the pipeline's confidence for each, `blend(probability, similarity, similarity_weight)`.
        train_vectors, query_vectors: the tuned encoder's vectors of the training examples and of the queries.
        stock_similarity: the baseline's similarity of each query to its nearest training question.
        similarity_weight: the classifier's setting the pipeline was trained with (below 1).
        reference_quantile: the classifier's setting (None: the raw similarity), as `nlu.neighbours.relative`.
    """
    dataset = data.dataset
    intents = sorted({example.label for example in dataset.train})
    index = {intent: i for i, intent in enumerate(intents)}
    ids = np.array([index[example.label] for example in dataset.train])
    predicted = np.array([index.get(label, -1) for label in labels])
    rows = np.arange(len(labels))

    def similarity_of_label(k: int, quantile: float | None = None) -> np.ndarray:
        neighbours = ExampleNeighbours(train_vectors, ids, len(intents), k=k)
        per_intent = neighbours.similarity(query_vectors)
        if quantile is not None:
            per_intent = relative(per_intent, neighbours.reference(quantile))
        return np.where(predicted >= 0, per_intent[rows, np.maximum(predicted, 0)], 0.0)

    nearest = similarity_of_label(1, reference_quantile)
    raw = nearest if reference_quantile is None else similarity_of_label(1)
    probability = np.clip((confidence - similarity_weight * nearest) / (1 - similarity_weight), 0.0, 1.0)
    weight = _weight_on_validation(data, labels, probability, nearest)
    scores = {
        "probability": probability,
        "knn5": blend(probability, similarity_of_label(5), 0.5),
        "mahalanobis": -_mahalanobis(train_vectors, ids, len(intents), query_vectors),
        "stock3": (probability + raw + stock_similarity) / 3,
        "weight": blend(probability, nearest, weight),
        "raw": blend(probability, raw, similarity_weight),
    }
    tried = ", ".join(map(str, WEIGHTS))
    note = f"Weighted lever: similarity weight {weight:.1f}, the highest validation MCC of {tried}."
    return LeverScores(scores, note)


def _weight_on_validation(
    data: OosDataset, labels: Sequence[str], probability: np.ndarray, similarity: np.ndarray
) -> float:
    """The similarity weight whose max-MCC threshold gives the highest MCC on validation (the first among equals)."""
    dataset = data.dataset
    n = len(dataset.val)
    gold = [example.label for example in dataset.val]
    best, best_mcc = 0.0, -2.0
    for weight in WEIGHTS:
        score = blend(probability[:n], similarity[:n], weight)
        predictions = [Prediction(label, float(s)) for label, s in zip(labels[:n], score, strict=True)]
        objective = choose_mcc_threshold(gold, predictions, dataset.oos_label).objective
        if objective is not None and objective > best_mcc:
            best, best_mcc = weight, objective
    return best


def _mahalanobis(vectors: np.ndarray, ids: np.ndarray, intents: int, queries: np.ndarray) -> np.ndarray:
    """Each query's smallest Mahalanobis distance to an intent's mean, with one covariance shared by all intents
    (Lee et al. 2018), shrunk 10 % towards its mean variance because a few hundred examples span 384 dimensions."""
    means = np.stack([vectors[ids == i].mean(axis=0) for i in range(intents)])
    centred = vectors - means[ids]
    covariance = centred.T @ centred / len(vectors)
    dimension = covariance.shape[0]
    covariance = 0.9 * covariance + 0.1 * np.trace(covariance) / dimension * np.eye(dimension)
    precision = np.linalg.inv(covariance)
    # (q - m)' P (q - m) expanded, so every product is one matrix multiplication.
    projected = queries @ precision
    own = np.einsum("ij,ij->i", projected, queries)[:, None]
    cross = projected @ means.T
    centre = np.einsum("ij,ij->i", means @ precision, means)[None, :]
    return (own - 2 * cross + centre).min(axis=1)
