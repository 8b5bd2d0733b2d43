"""Retrieval benchmark of the knowledge-base engine as an FAQ matcher on intent datasets (the knowledge base on its
own help-centre questions is kb_benchmark.py), with the embedding cache and query timing both use.

The FAQ matcher indexes a dataset's training questions with the project's embedder and FAISS index and answers a
query with the label of its nearest question; the cosine similarity is its confidence. Embeddings are cached per
(model, dataset, split, texts) in the work folder, so a re-run encodes nothing.
"""

import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from knowledge_base import Embedder
from knowledge_base.index import FaissIndex

from .datasets import Dataset
from .metrics import THRESHOLD_CRITERION, Prediction, evaluate
from .report import BenchmarkResult, classifier_rows

FAQ_SYSTEM = "Keepwell KB engine as FAQ matcher (MiniLM + FAISS, nearest training question)"
LATENCY_SAMPLE = 300
QUERY_BATCH = 256


@dataclass(frozen=True)
class Encoded:
    """Vectors of one split, and how long encoding took when they were computed (perhaps on an earlier run)."""

    vectors: np.ndarray
    seconds: float
    cached: bool


class EmbeddingCache:
    """Vectors on disk under `root/<model>/<dataset>/<split>-<hash of the texts>.npy`, with a JSON sidecar."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(
        self, model: str, dataset: str, split: str, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
    ) -> Encoded:
        """The cached vectors of `texts`, or `encode(texts)` stored for next time."""
        digest = hashlib.sha256("\n".join([model, *texts]).encode("utf-8")).hexdigest()[:16]
        folder = self.root / _slug(model) / _slug(dataset)
        path, meta = folder / f"{split}-{digest}.npy", folder / f"{split}-{digest}.json"
        if path.is_file() and meta.is_file():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                return Encoded(vectors, float(json.loads(meta.read_text(encoding="utf-8"))["seconds"]), True)
        started = time.perf_counter()
        vectors = encode(list(texts))
        seconds = time.perf_counter() - started
        folder.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a run that reads the cache meanwhile sees the whole file or none.
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as file:
            np.save(file, vectors, allow_pickle=False)
        os.replace(partial, path)
        meta.write_text(json.dumps({"model": model, "count": len(texts), "seconds": seconds}), encoding="utf-8")
        return Encoded(vectors, seconds, False)


def run_faq_benchmark(
    dataset: Dataset, embedder: Embedder, work_dir: Path, latency_sample: int = LATENCY_SAMPLE
) -> BenchmarkResult:
    """Index the training questions, choose the similarity threshold on validation, score test.

    Args:
        dataset: the dataset; its out-of-scope training questions are indexed too, labelled out-of-scope.
        embedder: the project's embedder.
        work_dir: where the embedding cache lives.
        latency_sample: how many test queries are timed one at a time (encode + search).
    """
    cache = EmbeddingCache(work_dir / "embeddings")
    train_texts = [example.text for example in dataset.train]
    print(f"FAQ matcher on {dataset.name}: indexing {len(train_texts):,} training questions", flush=True)
    train = cache.get(
        embedder.name, dataset.name, "train", train_texts, lambda texts: embedder.encode_passages(texts, progress=True)
    )
    started = time.perf_counter()
    index = FaissIndex(train.vectors.shape[1])
    index.add(train.vectors)
    build_seconds = train.seconds + time.perf_counter() - started
    train_labels = [example.label for example in dataset.train]

    def predictions(split: str) -> list[Prediction]:
        texts = [example.text for example in dataset.split(split)]
        encoded = cache.get(
            embedder.name, dataset.name, split, texts, lambda t: _encode_queries(embedder, t, f"Encoding {split}")
        )
        scores, ids = index.search(encoded.vectors, 1)
        return [
            Prediction(train_labels[int(row)], float(value)) for value, row in zip(scores[:, 0], ids[:, 0], strict=True)
        ]

    evaluation = evaluate(
        [e.label for e in dataset.val], predictions("val"), [e.label for e in dataset.test], predictions("test"),
        dataset.oos_label,
    )  # fmt: skip
    test_texts = [example.text for example in dataset.test]
    rng = random.Random(0)  # noqa: S311 - a reproducible sample, not a secret
    sample = sorted(rng.sample(range(len(test_texts)), min(latency_sample, len(test_texts))))
    latencies = time_queries(
        [test_texts[i] for i in sample], lambda text: index.search(embedder.encode_queries([text]), 1)
    )
    choice = evaluation.choice
    setup = [
        f"Dataset: {dataset.name} from `{dataset.source}`: {dataset.summary()}.",
        *dataset.notes,
        f"Model: `{embedder.name}` through `knowledge_base.SentenceTransformerEmbedder` (passages for the indexed "
        "questions, queries for validation and test) and `knowledge_base.index.FaissIndex` (inner product = cosine).",
        "Prediction: the label of the nearest training question; its cosine similarity is the confidence. A query "
        f"counts as out-of-scope when that label is `{dataset.oos_label}` or the similarity is below the threshold "
        f"chosen on validation as the one with {THRESHOLD_CRITERION}. Nothing is chosen on test.",
        "Train s: encoding the training questions plus building the index"
        + (" (encoding time recorded when the cached vectors were computed)." if train.cached else "."),
        f"Latency: {len(sample)} test queries (a seeded sample) each encoded and searched alone. The scores use "
        "vectors encoded in batches, which differ from one-at-a-time vectors only by rounding (about 1e-7).",
    ]
    return BenchmarkResult(
        dataset=dataset.name,
        kind="retrieval",
        title=f"{dataset.name}: knowledge-base engine as an FAQ matcher",
        rows=classifier_rows(FAQ_SYSTEM, evaluation, build_seconds, latencies),
        setup=setup,
        notes=[choice.note],
    )


def time_queries(queries: Sequence[str], answer: Callable[[str], object]) -> list[float]:
    """Milliseconds `answer` takes for each query alone, with a progress bar."""
    timings = []
    for query in tqdm(queries, desc="Timing queries one at a time", unit="query"):
        started = time.perf_counter()
        answer(query)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _encode_queries(embedder: Embedder, texts: list[str], description: str) -> np.ndarray:
    parts = []
    with tqdm(total=len(texts), desc=description, unit="query") as bar:
        for start in range(0, len(texts), QUERY_BATCH):
            batch = texts[start : start + QUERY_BATCH]
            parts.append(embedder.encode_queries(batch))
            bar.update(len(batch))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "unnamed"
