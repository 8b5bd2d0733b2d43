"""ExampleNeighbours, relative and blend: the closeness to each intent's training examples that nlu.classifier
reports, measured against the intent's own spread."""

import numpy as np
import pytest

from nlu.neighbours import ExampleNeighbours, blend, relative


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


def _angles(*degrees: float) -> np.ndarray:
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def test_the_reference_is_a_quantile_of_each_examples_similarity_to_the_rest_of_its_intent() -> None:
    # Intent 0 spans 0, 10 and 40 degrees: left out in turn, each example's nearest other lies 10, 10 and 30 away.
    neighbours = ExampleNeighbours(_angles(0, 10, 40, 90, 91), [0, 0, 0, 1, 1], intents=2)
    loosest, median = neighbours.reference(0.0), neighbours.reference(0.5)
    np.testing.assert_allclose(loosest, np.cos(np.radians([30, 1])), atol=1e-6)
    np.testing.assert_allclose(median, np.cos(np.radians([10, 1])), atol=1e-6)


def test_the_reference_with_k_averages_the_k_nearest_other_examples() -> None:
    neighbours = ExampleNeighbours(_angles(0, 10, 40), [0, 0, 0], intents=1, k=2)
    # Left out in turn, each example's two others lie 10 and 40, 10 and 30, 30 and 40 degrees away.
    each = [np.cos(np.radians(pair)).mean() for pair in ([10, 40], [10, 30], [30, 40])]
    np.testing.assert_allclose(neighbours.reference(0.0), [min(each)], atol=1e-6)


def test_an_intent_with_fewer_than_two_examples_has_no_reference() -> None:
    reference = ExampleNeighbours(_angles(0, 5, 90), [0, 0, 1], intents=3).reference(0.0)
    assert not np.isnan(reference[0])
    assert np.isnan(reference[1]) and np.isnan(reference[2])


def test_relative_judges_a_tight_intent_more_strictly_and_a_spread_one_more_leniently() -> None:
    similarities = np.array([[0.8, 0.8, 0.8]])
    moved = relative(similarities, np.array([0.95, 0.75, np.nan]))
    # Tight intent 0 (examples 0.95 apart) loses, spread intent 1 gains as much; intent 2 has no reference.
    np.testing.assert_allclose(moved, [[0.7, 0.9, 0.8]], atol=1e-9)


def test_relative_without_any_reference_changes_nothing() -> None:
    similarities = np.array([[0.3, 0.6]])
    np.testing.assert_allclose(relative(similarities, np.array([np.nan, np.nan])), similarities)


def test_a_quantile_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="quantile must lie in"):
        ExampleNeighbours(_angles(0, 10), [0, 0], intents=1).reference(1.5)
