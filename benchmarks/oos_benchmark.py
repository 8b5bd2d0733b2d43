"""`python -m benchmarks oos`: on an oos-robustness dataset, the NLU pipeline of config.yml (trained as the NLU
benchmark trains it) beside a nearest-neighbour baseline measured in the same run, under both threshold rules.

The baseline is the stock all-MiniLM-L6-v2 of the knowledge base (`knowledge_base.SentenceTransformerEmbedder`) with
a FAISS index of the training questions: a query gets the label of its nearest training question, and the cosine
similarity is its score. With `levers`, other out-of-scope scores (`oos_levers`) are measured on the same trained
pipeline and reported as rows of their own.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base import Embedder
from knowledge_base.index import FaissIndex

from .metrics import Prediction, latency_summary
from .oos import RULE_DESCRIPTIONS, RULES, OosDataset, evaluate_rules, rule_note
from .oos_levers import LEVERS, lever_scores
from .published import oos_reference_rows
from .rasa_nlu import SYSTEM, RasaEnvironment, TrainedPipeline, train_and_predict
from .report import BenchmarkResult, Row
from .retrieval import QUERY_BATCH, EmbeddingCache, time_queries

BASELINE_SYSTEM = "Stock MiniLM nearest neighbour (baseline)"
LATENCY_SAMPLE = 100


@dataclass(frozen=True)
class System:
    """One system's best label and score for every validation and test query, and what it cost."""

    name: str
    val: list[Prediction]
    test: list[Prediction]
    train_seconds: float | None = None
    latencies_ms: Sequence[float] = ()
    extra: dict[str, float | None] | None = None


def run_oos_benchmark(
    data: OosDataset,
    embedder: Embedder,
    rasa: RasaEnvironment,
    config_path: Path,
    work_dir: Path,
    embeddings_dir: Path,
    epochs: int | None = None,
    levers: bool = False,
    encoder_cache: Path | None = None,
) -> BenchmarkResult:
    """Measure the baseline, train and query the pipeline, and score both under each threshold rule.

    Args:
        data: the dataset with the kind of each validation and test query.
        embedder: the knowledge base's embedder (the stock model) for the baseline.
        rasa: the Rasa environment.
        config_path: the Rasa config to train (the repository's config.yml).
        work_dir: this dataset's folder for the pipeline's training data, model and logs (emptied first).
        embeddings_dir: the embedding cache the retrieval benchmark shares.
        epochs: as for `rasa_nlu.run_nlu_benchmark`.
        levers: also measure the out-of-scope scores of `LEVERS` on the trained pipeline.
        encoder_cache: as for `rasa_nlu.train_and_predict`: reuse the tuned encoder across runs.
    """
    dataset = data.dataset
    baseline, stock_similarity = nearest_neighbour(data, embedder, EmbeddingCache(embeddings_dir))
    trained = train_and_predict(dataset, rasa, config_path, work_dir / "nlu", epochs, encoder_cache)
    pipeline = System(
        SYSTEM, trained.val, trained.test, trained.train_seconds, trained.latencies_ms,
        {"fallback_rate": trained.fallback_rate},
    )  # fmt: skip
    rows, notes = [], []
    lever_rows: list[System] = []
    if levers:
        settings = _classifier_settings(config_path)
        lever_rows, lever_note = lever_systems(data, trained, stock_similarity, *settings)
        notes.append(lever_note)
    systems = [baseline, pipeline, *lever_rows]
    for system in systems:
        results = evaluate_rules(data, system.val, system.test)
        p50, p95 = latency_summary(system.latencies_ms) if system.latencies_ms else (None, None)
        common = {"train_seconds": system.train_seconds, "latency_p50_ms": p50, "latency_p95_ms": p95}
        for result in results:
            values = {**result.test.values(), "threshold": result.choice.threshold, **common, **(system.extra or {})}
            rows.append(Row(f"{system.name}, {result.rule}", "this run", values))
            notes.append(rule_note(system.name, result))
    if epochs is not None:
        notes.append(f"Shortened run: the pipeline trained with every `epochs:` and its fine-tuning set to {epochs}.")
    setup = [
        f"Dataset: {dataset.name} from `{dataset.source}` (read in place): {dataset.summary()}. Validation "
        f"{data.counts('val')}; test {data.counts('test')}. Train has no out-of-scope queries.",
        *dataset.notes,
        f"Baseline: `{embedder.name}` through `knowledge_base.SentenceTransformerEmbedder` and `FaissIndex` over the "
        "training questions; a query gets the label of its nearest training question, and the cosine similarity is "
        f"its score. Train s: encoding the training questions; latency: {LATENCY_SAMPLE} test queries (a seeded "
        "sample) each encoded and searched alone.",
        *trained.setup,
        "Score of the pipeline: the confidence of the best intent other than `nlu_fallback` in `intent_ranking`: "
        "the classifier's probability blended with the similarity to that intent's nearest training example "
        "(`similarity_weight`), relative to the intent's own spread when `reference_quantile` is set.",
        "Threshold rules, each choosing one threshold on validation (never on test): "
        + "; ".join(f"{rule}: {RULE_DESCRIPTIONS[rule]}" for rule in RULES)
        + ". A query counts as out-of-scope when its score is below the threshold.",
        "Test scores: in-scope accuracy over the in-scope queries; OOS recall over all out-of-scope queries, then "
        "over ID-OOS (`test_id_oos.csv`) and OOD-OOS (`test_ood_oos.csv`) apart; MCC (Matthews' correlation, "
        f"multiclass) over all test queries with `{dataset.oos_label}` as one more class.",
    ]
    if levers:
        setup.append(
            "Levers (measured on the same trained pipeline, not shipped): the label is the pipeline's, the score "
            "another one. The probability is recovered from the confidence as (confidence - w x similarity) / (1 - w), "
            "the similarity recomputed from the tuned encoder's export (the featurizer's) with `nlu.neighbours`."
        )
    return BenchmarkResult(
        dataset=dataset.name,
        kind="oos",
        title=f"{dataset.name}: out-of-scope detection, NLU pipeline of config.yml beside a nearest-neighbour baseline",
        rows=[*rows, *oos_reference_rows(dataset.name)],
        setup=setup,
        notes=notes,
    )


def nearest_neighbour(data: OosDataset, embedder: Embedder, cache: EmbeddingCache) -> tuple[System, np.ndarray]:
    """The baseline's predictions, and the similarity of each validation and test query (in that order) to its
    nearest training question."""
    dataset = data.dataset
    texts = {split: [example.text for example in dataset.split(split)] for split in ("train", "val", "test")}
    print(f"Nearest-neighbour baseline on {dataset.name}: indexing {len(texts['train']):,} questions", flush=True)
    train = cache.get(
        embedder.name, dataset.name, "train", texts["train"], lambda t: embedder.encode_passages(t, progress=True)
    )
    index = FaissIndex(train.vectors.shape[1])
    index.add(train.vectors)
    labels = [example.label for example in dataset.train]
    predictions: dict[str, list[Prediction]] = {}
    similarity = []
    for split in ("val", "test"):
        vectors = cache.get(embedder.name, dataset.name, split, texts[split], lambda t: _queries(embedder, t)).vectors
        scores, ids = index.search(vectors, 1)
        predictions[split] = [
            Prediction(labels[int(i)], float(s)) for s, i in zip(scores[:, 0], ids[:, 0], strict=True)
        ]
        similarity.append(scores[:, 0])
    rng = random.Random(0)  # noqa: S311 - a reproducible sample, not a secret
    sample = rng.sample(texts["test"], min(LATENCY_SAMPLE, len(texts["test"])))
    latencies = time_queries(sample, lambda text: index.search(embedder.encode_queries([text]), 1))
    system = System(BASELINE_SYSTEM, predictions["val"], predictions["test"], train.seconds, latencies)
    return system, np.concatenate(similarity)


def lever_systems(
    data: OosDataset,
    trained: TrainedPipeline,
    stock_similarity: np.ndarray,
    similarity_weight: float,
    reference_quantile: float | None = None,
) -> tuple[list[System], str]:
    """The pipeline's labels with the out-of-scope scores of `oos_levers.LEVERS`, and a note on what was chosen."""
    from nlu.encoder import OnnxSentenceEncoder

    dataset = data.dataset
    encoder = OnnxSentenceEncoder(trained.encoder_dir)
    print(f"Levers: encoding {dataset.name} with the tuned encoder {trained.encoder_dir}", flush=True)
    train = encoder.encode([example.text for example in dataset.train])
    queries = encoder.encode([example.text for example in (*dataset.val, *dataset.test)])
    confidence = np.array([p.confidence for p in (*trained.val, *trained.test)])
    labels = [p.label for p in (*trained.val, *trained.test)]
    levers = lever_scores(
        data, labels, confidence, train, queries, stock_similarity, similarity_weight, reference_quantile
    )
    systems = []
    for key, name in LEVERS.items():
        predictions = [Prediction(label, float(s)) for label, s in zip(labels, levers.scores[key], strict=True)]
        val, test = predictions[: len(dataset.val)], predictions[len(dataset.val) :]
        systems.append(System(name, val, test, trained.train_seconds))
    return systems, levers.note


def _classifier_settings(config_path: Path) -> tuple[float, float | None]:
    """The classifier's `similarity_weight` and `reference_quantile` in the Rasa config (defaults 0.5 and None)."""
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if isinstance(component, dict) and str(component.get("name", "")).endswith("SentenceIntentClassifier"):
            quantile = component.get("reference_quantile")
            return float(component.get("similarity_weight", 0.5)), None if quantile is None else float(quantile)
    return 0.5, None


def _queries(embedder: Embedder, texts: list[str]) -> np.ndarray:
    parts = [embedder.encode_queries(texts[start : start + QUERY_BATCH]) for start in range(0, len(texts), QUERY_BATCH)]
    return np.concatenate(parts)
