"""The exact NumPy index, and FAISS checked against it."""

from pathlib import Path

import numpy as np
import pytest

from knowledge_base.index import ExactIndex, FaissIndex, index_type


def _unit_rows(rows: int, dimension: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_exact_index_returns_best_inner_products_first() -> None:
    index = ExactIndex(3)
    index.add(np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], dtype=np.float32))

    scores, ids = index.search(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32), k=2)

    assert ids.tolist() == [[1, 2], [0, 2]]
    np.testing.assert_allclose(scores, [[1.0, 0.8], [1.0, 0.6]], atol=1e-6)
    assert ids.dtype == np.int64 and scores.dtype == np.float32


@pytest.mark.parametrize("kind", [ExactIndex, FaissIndex])
def test_k_is_clipped_to_the_index_size_and_empty_indexes_answer_nothing(kind: type[ExactIndex]) -> None:
    index = kind(4)
    query = _unit_rows(1, 4, seed=1)
    scores, ids = index.search(query, k=3)
    assert scores.shape == ids.shape == (1, 0)

    index.add(_unit_rows(2, 4, seed=2))
    scores, ids = index.search(query, k=5)
    assert scores.shape == ids.shape == (1, 2)
    assert sorted(ids[0].tolist()) == [0, 1]


@pytest.mark.parametrize("kind", [ExactIndex, FaissIndex])
def test_wrong_shapes_and_bad_k_are_refused(kind: type[ExactIndex]) -> None:
    index = kind(4)
    with pytest.raises(ValueError, match="shape"):
        index.add(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        index.search(np.zeros(4, dtype=np.float32), k=1)
    with pytest.raises(ValueError, match="NaN"):
        index.add(np.full((1, 4), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.zeros((1, 4), dtype=np.float32), k=0)


def test_faiss_matches_exact_search_on_random_vectors() -> None:
    vectors, queries = _unit_rows(500, 32, seed=7), _unit_rows(25, 32, seed=8)
    exact, flat = ExactIndex(32), FaissIndex(32)
    for index in (exact, flat):
        index.add(vectors[:300])
        index.add(vectors[300:])

    exact_scores, exact_ids = exact.search(queries, k=10)
    faiss_scores, faiss_ids = flat.search(queries, k=10)

    assert flat.size == exact.size == 500
    np.testing.assert_array_equal(faiss_ids, exact_ids)
    np.testing.assert_allclose(faiss_scores, exact_scores, atol=1e-5)


@pytest.mark.parametrize("kind", [ExactIndex, FaissIndex])
def test_save_and_load_round_trip(tmp_path: Path, kind: type[ExactIndex]) -> None:
    index = kind(8)
    index.add(_unit_rows(20, 8, seed=3))
    queries = _unit_rows(3, 8, seed=4)
    path = tmp_path / kind.file_name

    index.save(path)
    loaded = index_type(kind.kind).load(path)

    assert type(loaded) is kind
    assert (loaded.dimension, loaded.size) == (8, 20)
    for expected, actual in zip(index.search(queries, 5), loaded.search(queries, 5), strict=True):
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("kind", [ExactIndex, FaissIndex])
def test_loading_garbage_raises_value_error(tmp_path: Path, kind: type[ExactIndex]) -> None:
    path = tmp_path / kind.file_name
    path.write_bytes(b"definitely not an index")

    with pytest.raises(ValueError):
        kind.load(path)


def test_unknown_index_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown index kind 'hnsw'"):
        index_type("hnsw")
