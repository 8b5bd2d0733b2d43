"""`ExampleNeighbours`: how close a message's sentence vector lies to the training examples of each intent, and the
confidence `nlu.classifier` reports: the classifier's probability blended with that closeness.

The logistic regression's probability says which intent a message is nearer to, not whether it is near any: an
off-topic question that lands between intents can still get 0.9 for one of them. The cosine similarity to the
nearest training example of the intent says how far the message is from anything the bot was taught. Their mean
caught more out-of-scope questions than either alone on the oos-robustness sets at the same cost in answered
questions (benchmarks/README.md).

Intents differ in how tightly their examples cluster, so one threshold on the raw similarity is loose for a tight
intent and strict for a spread one. `ExampleNeighbours.reference` measures each intent's own spread (how close its
examples lie to one another, leaving each out in turn) and `relative` moves every intent's similarity by it: on the
oos-robustness sets that caught more out-of-scope questions at the same cost (benchmarks/README.md). Pure NumPy, so it
is tested without Rasa.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Rows of similarities computed at once: a batch of messages times every training example stays a few MB.
_BATCH = 256


class ExampleNeighbours:
    """The unit-length vectors of the training examples, grouped by intent.

    Args:
        vectors: (examples, dimension) sentence vectors; normalised here.
        intent_ids: the intent of each example, as an index into the classifier's intents.
        intents: how many intents there are; an intent without examples is 0 similar to everything.
        k: a message's similarity to an intent is the mean cosine of its `k` most similar examples of that intent
            (fewer when the intent has fewer).
    """

    def __init__(self, vectors: np.ndarray, intent_ids: Sequence[int] | np.ndarray, intents: int, k: int = 1) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        ids = np.asarray(intent_ids, dtype=np.int64)
        if vectors.ndim != 2 or ids.shape != (vectors.shape[0],):
            raise ValueError(f"{ids.shape[0]} intent ids for vectors of shape {vectors.shape}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if ids.size and (ids.min() < 0 or ids.max() >= intents):
            raise ValueError(f"intent ids must lie in [0, {intents})")
        # Sorted by intent, so each intent's examples are one contiguous block of columns.
        order = np.argsort(ids, kind="stable")
        self.vectors = _normalised(vectors)[order]
        self.intent_ids = ids[order]
        self.intents = intents
        self.k = k
        self._present = np.unique(self.intent_ids)
        self._starts = np.searchsorted(self.intent_ids, self._present)

    def similarity(self, queries: np.ndarray) -> np.ndarray:
        """(queries, intents): each query's mean cosine to its `k` nearest training examples of each intent."""
        queries = _normalised(np.asarray(queries, dtype=np.float32).reshape(-1, self.vectors.shape[1]))
        out = np.zeros((queries.shape[0], self.intents), dtype=np.float64)
        if self.vectors.shape[0] == 0:
            return out
        ends = [*self._starts[1:], self.vectors.shape[0]]
        for start in range(0, queries.shape[0], _BATCH):
            cosines = queries[start : start + _BATCH] @ self.vectors.T
            if self.k == 1:
                out[start : start + _BATCH, self._present] = np.maximum.reduceat(cosines, self._starts, axis=1)
                continue
            for intent, first, end in zip(self._present, self._starts, ends, strict=True):
                k = min(self.k, end - first)
                nearest = np.partition(cosines[:, first:end], end - first - k, axis=1)[:, end - first - k :]
                out[start : start + _BATCH, intent] = nearest.mean(axis=1)
        return out

    def reference(self, quantile: float) -> np.ndarray:
        """(intents,): for each intent, the `quantile` of its examples' similarity to the rest of the intent (each
        example's mean cosine to its `k` nearest other examples), e.g. 0 for the loosest example's. NaN for an intent
        with fewer than two examples, which has no spread to measure."""
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must lie in [0, 1], got {quantile}")
        out = np.full(self.intents, np.nan)
        ends = [*self._starts[1:], self.vectors.shape[0]]
        for intent, first, end in zip(self._present, self._starts, ends, strict=True):
            if end - first < 2:
                continue
            block = self.vectors[first:end]
            cosines = block @ block.T
            np.fill_diagonal(cosines, -np.inf)  # leave each example out of its own neighbours
            k = min(self.k, end - first - 1)
            nearest = np.sort(cosines, axis=1)[:, -k:].mean(axis=1)
            out[intent] = np.quantile(nearest, quantile)
        return out


def relative(similarities: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each intent's similarity moved by how far its `reference` lies from the mean reference, so every intent is
    judged against its own spread on the scale of an average one. Intents without a reference (NaN) are not moved."""
    reference = np.asarray(reference, dtype=np.float64)
    known = ~np.isnan(reference)
    if not known.any():
        return np.asarray(similarities, dtype=np.float64)
    shift = np.where(known, reference - reference[known].mean(), 0.0)
    return np.asarray(similarities, dtype=np.float64) - shift


def blend(probabilities: np.ndarray, similarities: np.ndarray, similarity_weight: float) -> np.ndarray:
    """The reported confidence: (1 - w) x probability + w x similarity, clipped to [0, 1] (a cosine can be negative).

    `similarity_weight` 0 reports the probability alone; 0.5 is the plain mean that was measured and shipped.
    """
    if not 0.0 <= similarity_weight <= 1.0:
        raise ValueError(f"similarity_weight must lie in [0, 1], got {similarity_weight}")
    mixed = (1.0 - similarity_weight) * np.asarray(probabilities) + similarity_weight * np.asarray(similarities)
    return np.clip(mixed, 0.0, 1.0)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
