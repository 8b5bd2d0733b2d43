"""The FAQ-matcher benchmark with the knowledge-base tests' fake embedder, and the embedding cache."""

from pathlib import Path

import numpy as np
import pytest

from benchmarks.datasets import Dataset, Example
from benchmarks.retrieval import EmbeddingCache, run_faq_benchmark
from tests.knowledge_base.conftest import FakeEmbedder


def _dataset() -> Dataset:
    train = [
        Example("reset my password please", "reset"),
        Example("forgot password reset link", "reset"),
        Example("cancel my subscription today", "cancel"),
        Example("stop subscription cancel plan", "cancel"),
        Example("weather forecast tomorrow rain", "oos"),
    ]
    val = [Example("password reset", "reset"), Example("cancel subscription", "cancel"), Example("zebra lemon", "oos")]
    test = [
        Example("reset password", "reset"),
        Example("cancel plan", "cancel"),
        Example("purple giraffe", "oos"),
        Example("rain forecast", "oos"),
    ]
    return Dataset("toy", train, val, test, oos_label="oos", source="memory")


def test_faq_benchmark_matches_nearest_question_and_rejects_unrelated(tmp_path: Path) -> None:
    result = run_faq_benchmark(_dataset(), FakeEmbedder(), tmp_path, latency_sample=3)

    first = result.rows[0]
    assert result.kind == "retrieval" and result.dataset == "toy"
    assert first.values["in_scope_accuracy"] == pytest.approx(100.0)
    assert first.values["oos_recall"] == pytest.approx(100.0)  # one by the oos class, one by the threshold
    assert first.values["threshold"] is not None
    assert first.values["latency_p50_ms"] is not None
    assert any("nearest training question" in line for line in result.setup)


def test_embedding_cache_encodes_once_per_texts(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.ones((len(texts), 4), dtype=np.float32)

    first = cache.get("model/a", "toy", "train", ["x", "y"], encode)
    second = cache.get("model/a", "toy", "train", ["x", "y"], encode)
    cache.get("model/a", "toy", "train", ["x", "z"], encode)

    assert not first.cached and second.cached
    assert np.array_equal(first.vectors, second.vectors)
    assert second.seconds == pytest.approx(first.seconds)
    assert len(calls) == 2
