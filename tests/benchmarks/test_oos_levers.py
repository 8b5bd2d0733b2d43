"""The out-of-scope levers on hand-made vectors: the probability recovered from the shipped confidence, the k-NN and
Mahalanobis scores, and the similarity weight chosen on validation only."""

import numpy as np
import pytest

from benchmarks.datasets import Dataset, Example
from benchmarks.oos import ID_OOS, IN_SCOPE, OOD_OOS, OosDataset
from benchmarks.oos_levers import LEVERS, WEIGHTS, _mahalanobis, lever_scores
from nlu.neighbours import ExampleNeighbours, blend, relative

OOS = "oos"


def _data() -> OosDataset:
    train = [Example(f"a{i}", "a") for i in range(3)] + [Example(f"b{i}", "b") for i in range(3)]
    queries = [("a", IN_SCOPE), ("b", IN_SCOPE), (OOS, ID_OOS), (OOS, OOD_OOS)]
    val = [Example(f"v{i}", label) for i, (label, _) in enumerate(queries)]
    test = [Example(f"t{i}", label) for i, (label, _) in enumerate(queries)]
    kinds = [kind for _, kind in queries]
    return OosDataset(Dataset("toy", train, val, test), kinds, kinds)


def _vectors() -> tuple[np.ndarray, np.ndarray]:
    train = np.array([[1, 0, 0], [0.95, 0.3, 0], [0.9, 0, 0.4], [0, 1, 0], [0.3, 0.95, 0], [0, 0.9, 0.4]])
    queries = np.array([[1, 0.1, 0], [0.1, 1, 0], [0.5, 0.5, 0.7], [0, 0, 1]] * 2)
    norm = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return norm(train), norm(queries)


def test_every_lever_scores_every_query_and_the_probability_is_recovered_from_the_confidence() -> None:
    train, queries = _vectors()
    labels = ["a", "b", "a", "b"] * 2
    probability = np.array([0.9, 0.8, 0.7, 0.6] * 2)
    nearest = np.array([(queries[i] @ train[:3].T).max() if labels[i] == "a" else (queries[i] @ train[3:].T).max()
                        for i in range(8)])  # fmt: skip
    confidence = blend(probability, nearest, 0.5)

    levers = lever_scores(_data(), labels, confidence, train, queries, np.full(8, 0.5), 0.5)

    assert set(levers.scores) == set(LEVERS)
    assert all(score.shape == (8,) for score in levers.scores.values())
    np.testing.assert_allclose(levers.scores["probability"], probability, atol=1e-6)
    np.testing.assert_allclose(levers.scores["stock3"], (probability + nearest + 0.5) / 3, atol=1e-6)
    # The off-topic queries are the furthest from every example.
    assert levers.scores["mahalanobis"][3] < levers.scores["mahalanobis"][0]
    assert levers.scores["knn5"][3] < levers.scores["knn5"][0]
    assert "similarity weight" in levers.note and any(f"{w:.1f}" in levers.note for w in WEIGHTS)


def test_with_a_per_intent_reference_the_probability_is_still_recovered_and_raw_is_the_old_blend() -> None:
    _, queries = _vectors()
    # Intent a is spread out, b tight.
    train = np.array([[1, 0, 0], [0.8, 0.6, 0], [0.8, 0, 0.6], [0, 1, 0], [0.1, 0.995, 0], [0, 0.995, 0.1]])
    train = train / np.linalg.norm(train, axis=1, keepdims=True)
    labels = ["a", "b", "a", "b"] * 2
    probability = np.array([0.9, 0.8, 0.7, 0.6] * 2)
    neighbours = ExampleNeighbours(train, [0, 0, 0, 1, 1, 1], 2)
    column = np.array([0 if label == "a" else 1 for label in labels])
    raw = neighbours.similarity(queries)[np.arange(8), column]
    moved = relative(neighbours.similarity(queries), neighbours.reference(0.0))[np.arange(8), column]
    assert (moved[column == 0] > raw[column == 0]).all() and (moved[column == 1] < raw[column == 1]).all()

    levers = lever_scores(_data(), labels, blend(probability, moved, 0.5), train, queries, np.full(8, 0.5), 0.5, 0.0)

    np.testing.assert_allclose(levers.scores["probability"], probability, atol=1e-6)
    np.testing.assert_allclose(levers.scores["raw"], blend(probability, raw, 0.5), atol=1e-6)


def test_mahalanobis_matches_the_direct_formula() -> None:
    rng = np.random.default_rng(0)
    vectors, ids, queries = rng.normal(size=(40, 3)), np.repeat([0, 1], 20), rng.normal(size=(5, 3))
    means = np.stack([vectors[ids == i].mean(axis=0) for i in (0, 1)])
    centred = vectors - means[ids]
    covariance = centred.T @ centred / 40
    covariance = 0.9 * covariance + 0.1 * np.trace(covariance) / 3 * np.eye(3)
    precision = np.linalg.inv(covariance)
    direct = [min((q - m) @ precision @ (q - m) for m in means) for q in queries]
    assert _mahalanobis(vectors, ids, 2, queries) == pytest.approx(direct)
