"""ExampleNeighbours and blend: the closeness to each intent's training examples that nlu.classifier reports."""

import numpy as np
import pytest

from nlu.neighbours import ExampleNeighbours, blend


def _unit(*rows: list[float]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_similarity_is_the_cosine_to_the_nearest_example_of_each_intent() -> None:
    examples = _unit([1, 0, 0], [0.8, 0.6, 0], [0, 1, 0], [0, 0, 1])
    neighbours = ExampleNeighbours(examples, [0, 0, 1, 2], intents=3)
    similarity = neighbours.similarity(_unit([1, 0, 0], [0, 0.6, 0.8]))
    np.testing.assert_allclose(similarity, [[1.0, 0.0, 0.0], [0.36, 0.6, 0.8]], atol=1e-6)


def test_examples_in_any_order_and_unnormalised_queries_give_the_same_answer() -> None:
    rng = np.random.default_rng(0)
    examples, ids = rng.normal(size=(30, 8)), rng.integers(0, 4, 30)
    queries = rng.normal(size=(5, 8))
    shuffled = rng.permutation(30)
    first = ExampleNeighbours(examples, ids, intents=4).similarity(queries)
    second = ExampleNeighbours(examples[shuffled] * 3, ids[shuffled], intents=4).similarity(queries * 7)
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_k_averages_the_k_nearest_examples_and_takes_all_of_a_smaller_intent() -> None:
    examples = _unit([1, 0], [0.6, 0.8], [0, 1], [0.8, 0.6])
    neighbours = ExampleNeighbours(examples, [0, 0, 0, 1], intents=2, k=2)
    np.testing.assert_allclose(neighbours.similarity(_unit([1, 0])), [[(1.0 + 0.6) / 2, 0.8]], atol=1e-6)


def test_an_intent_without_examples_is_similar_to_nothing() -> None:
    neighbours = ExampleNeighbours(_unit([1, 0]), [1], intents=3)
    np.testing.assert_allclose(neighbours.similarity(_unit([1, 0])), [[0.0, 1.0, 0.0]], atol=1e-6)


def test_many_queries_are_answered_in_batches_like_one_at_a_time() -> None:
    rng = np.random.default_rng(1)
    neighbours = ExampleNeighbours(rng.normal(size=(20, 4)), rng.integers(0, 3, 20), intents=3)
    queries = rng.normal(size=(600, 4))
    np.testing.assert_allclose(neighbours.similarity(queries)[599], neighbours.similarity(queries[599:])[0])


@pytest.mark.parametrize(
    ("vectors", "ids", "intents", "k", "message"),
    [
        (np.ones((2, 3)), [0], 1, 1, "intent ids"),
        (np.ones((2, 3)), [0, 2], 2, 1, "intent ids must lie"),
        (np.ones((2, 3)), [0, 1], 2, 0, "k must be at least 1"),
    ],
)
def test_inconsistent_inputs_are_refused(
    vectors: np.ndarray, ids: list[int], intents: int, k: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ExampleNeighbours(vectors, ids, intents, k)


def test_blend_weighs_similarity_against_probability_and_stays_in_0_1() -> None:
    probabilities = np.array([[0.9, 0.1]])
    similarities = np.array([[0.3, -0.2]])
    np.testing.assert_allclose(blend(probabilities, similarities, 0.5), [[0.6, 0.0]])
    np.testing.assert_allclose(blend(probabilities, similarities, 0.0), probabilities)
    with pytest.raises(ValueError, match="similarity_weight"):
        blend(probabilities, similarities, 1.5)
