"""Retrieval benchmarks of the knowledge-base engine: as an FAQ matcher on intent datasets, and on Keepwell's own
help-centre questions beside a BM25 baseline.

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
import yaml
from tqdm import tqdm

from knowledge_base import Embedder, KnowledgeBase, Passage
from knowledge_base.documents import Article, chunk_article, load_articles, passage_text
from knowledge_base.index import FaissIndex

from .datasets import Dataset
from .metrics import THRESHOLD_CRITERION, Prediction, evaluate, latency_summary, ranking_scores
from .report import BenchmarkResult, Row, classifier_rows

FAQ_SYSTEM = "Keepwell KB engine as FAQ matcher (MiniLM + FAISS, nearest training question)"
KB_SYSTEM = "Keepwell knowledge base (MiniLM + FAISS; articles by best chunk, section by best sentence, lead margin)"
# The section-choice levers, each measured on the same index: (row name, by_sentence, lead_margin or None = shipped).
SECTION_LEVERS = (
    ("Section lever: best sentence only (no lead margin)", True, 0.0),
    ("Section lever: lead margin only (section by whole chunk)", False, None),
    ("Before: section = best chunk of the article", False, 0.0),
)
BM25_SYSTEM = "BM25 baseline (rank_bm25 Okapi, best chunk per article)"
HYBRID_SYSTEM = "Knowledge base + BM25, reciprocal rank fusion (measured, not shipped)"
RRF_K = 60
LEAD = "lead"  # the section label of a question the article's introduction answers
LATENCY_SAMPLE = 300
QUERY_BATCH = 256
_TOKEN = re.compile(r"[a-z0-9]+")


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


def run_kb_benchmark(
    embedder: Embedder,
    content_dir: Path,
    labelled_path: Path,
    unanswerable_path: Path,
    work_dir: Path,
    min_score: float,
) -> BenchmarkResult:
    """Article top-1, section top-1, recall@3 and MRR of the knowledge base on labelled questions, beside BM25.

    Args:
        embedder: the project's embedder.
        content_dir: the articles.
        labelled_path: YAML list of {question, article, section}.
        unanswerable_path: YAML list of questions the articles cannot answer.
        work_dir: where the index is built (always rebuilt, so its build time is measured).
        min_score: the knowledge base's confidence threshold (from settings).
    """
    labelled = read_labelled(labelled_path)
    unanswerable = read_unanswerable(unanswerable_path)
    articles = load_articles(content_dir)
    wanted = gold_sections(labelled, articles)
    kb = KnowledgeBase(embedder, index_dir=work_dir / "kb-index", content_dir=content_dir, min_score=min_score)
    print(f"Knowledge base: {len(articles)} articles, {len(labelled)} labelled questions", flush=True)
    build = kb.build(force=True, progress=True)
    questions = [item.question for item in labelled]
    gold = [item.article for item in labelled]
    latencies = time_queries(questions, kb.search)  # the production call: top_k articles
    rankings, confident, answers = [], 0, []
    for question in tqdm(questions, desc="Ranking all articles", unit="question"):
        result = kb.search(question, k=len(articles))
        rankings.append([passage.article_id for passage in result.passages])
        answers.append(_top_section(result.passages))
        confident += result.confident
    refused = [not kb.search(question, k=1).confident for question in unanswerable]
    kb_scores = ranking_scores(rankings, gold, k=3)
    # Each section lever alone, on the same index; article ranking does not depend on them.
    shipped = (kb.by_sentence, kb.lead_margin)
    lever_rows = []
    for name, by_sentence, margin in SECTION_LEVERS:
        kb.by_sentence, kb.lead_margin = by_sentence, shipped[1] if margin is None else margin
        top = [_top_section(kb.search(question, k=1).passages) for question in questions]
        lever_rows.append(
            Row(name, "this run", {"top1": _article_top1(top, gold), "section_top1": section_top1(top, wanted)})
        )
    kb.by_sentence, kb.lead_margin = shipped

    bm25_started = time.perf_counter()
    bm25 = BM25Articles(articles)
    bm25_seconds = time.perf_counter() - bm25_started
    bm25_latencies = time_queries(questions, bm25.rank)
    bm25_sections = [bm25.sections(question) for question in questions]
    bm25_rankings = [[article_id for article_id, _ in ranking] for ranking in bm25_sections]
    bm25_answers = [ranking[0] if ranking else None for ranking in bm25_sections]
    bm25_scores = ranking_scores(bm25_rankings, gold, k=3)
    # The hybrid lever, measured rather than shipped: it ships only if it beats the knowledge base alone.
    pairs = zip(rankings, bm25_rankings, strict=True)
    fused = [reciprocal_rank_fusion([dense, lexical], RRF_K) for dense, lexical in pairs]
    fused_scores = ranking_scores(fused, gold, k=3)

    p50, p95 = latency_summary(latencies)
    b50, b95 = latency_summary(bm25_latencies)
    rows = [
        Row(KB_SYSTEM, "this run", {
            "top1": kb_scores.top1, "section_top1": section_top1(answers, wanted), "recall_at_3": kb_scores.recall_at_k,
            "mrr": kb_scores.mrr, "unanswerable_refused": 100 * sum(refused) / len(refused),
            "train_seconds": build.seconds, "latency_p50_ms": p50, "latency_p95_ms": p95,
        }),
        *lever_rows,
        Row(BM25_SYSTEM, "this run", {
            "top1": bm25_scores.top1, "section_top1": section_top1(bm25_answers, wanted),
            "recall_at_3": bm25_scores.recall_at_k, "mrr": bm25_scores.mrr,
            "train_seconds": bm25_seconds, "latency_p50_ms": b50, "latency_p95_ms": b95,
        }),
        Row(HYBRID_SYSTEM, "this run", {
            "top1": fused_scores.top1, "recall_at_3": fused_scores.recall_at_k, "mrr": fused_scores.mrr,
        }),
    ]  # fmt: skip
    sectioned = sum(gold is not None for gold in wanted)
    setup = [
        f"Questions: {len(labelled)} labelled (`{labelled_path.name}`, one right article each, {sectioned} with the "
        f"right section too) and {len(unanswerable)} unanswerable (`{unanswerable_path.name}`); {len(articles)} "
        f"articles in `{content_dir.name}/`, {build.chunks} chunks.",
        f"Knowledge base: `knowledge_base.KnowledgeBase` with `{embedder.name}` and FAISS, index rebuilt for this "
        f"run (Train s). Ranking: every article by its best chunk; MRR counts a miss as 0.",
        f"Section top-1 %: the top answer is the right article and the right section (its `##` heading, or the lead), "
        f"over the {sectioned} questions labelled with a section. The shipped engine chooses the section within the "
        f"article by the best-matching sentence row of each section (`knowledge_base.sections`), the lead only if it "
        f"wins by {shipped[1]:.2f}; the lever rows switch one part at a time on the same index, and the before row "
        "is the previous engine (the section is the article's best whole chunk).",
        f"Unanswerable refused %: share of unanswerable questions whose best score is below the settings' "
        f"kb_min_score {min_score:.2f}; on the labelled questions it answered confidently "
        f"{100 * confident / len(questions):.1f}% of the time.",
        "BM25: `rank_bm25.BM25Okapi` over the same chunk texts the embedder sees, lower-cased [a-z0-9]+ tokens, no "
        "stemming or stop words; an article scores its best chunk, which is its section. It has no calibrated "
        "threshold, so no refusals.",
        f"Hybrid: reciprocal rank fusion (k={RRF_K}, Cormack et al. 2009) of the two rankings above; not shipped "
        "unless it beats the knowledge base alone.",
        "Latency: each labelled question searched alone, as the bot does (knowledge base: top_k articles).",
    ]
    return BenchmarkResult(
        dataset="keepwell",
        kind="kb",
        title="Keepwell help centre: knowledge-base retrieval on labelled questions",
        rows=rows,
        setup=setup,
    )


class BM25Articles:
    """BM25 over article chunks; an article scores as its best chunk."""

    def __init__(self, articles: Sequence[Article]) -> None:
        from rank_bm25 import BM25Okapi

        self._chunks = [chunk for article in articles for chunk in chunk_article(article)]
        self._bm25 = BM25Okapi([tokens(passage_text(chunk)) for chunk in self._chunks])

    def rank(self, question: str) -> list[str]:
        """Every article id, best first (ties by id)."""
        return [article_id for article_id, _ in self.sections(question)]

    def sections(self, question: str) -> list[tuple[str, str]]:
        """(article id, anchor of its best chunk) for every article, best first (ties by id)."""
        best: dict[str, tuple[float, str]] = {}
        for chunk, value in zip(self._chunks, self._bm25.get_scores(tokens(question)), strict=True):
            if chunk.article_id not in best or float(value) > best[chunk.article_id][0]:
                best[chunk.article_id] = (float(value), chunk.anchor)
        ranked = sorted(best, key=lambda article_id: (-best[article_id][0], article_id))
        return [(article_id, best[article_id][1]) for article_id in ranked]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[str]:
    """One ranking from several: each item scores the sum of 1 / (k + rank) over the rankings (ties by id)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], item))


def tokens(text: str) -> list[str]:
    """Lower-cased runs of letters and digits: the simple tokeniser of the BM25 baseline."""
    return _TOKEN.findall(text.lower())


def time_queries(queries: Sequence[str], answer: Callable[[str], object]) -> list[float]:
    """Milliseconds `answer` takes for each query alone, with a progress bar."""
    timings = []
    for query in tqdm(queries, desc="Timing queries one at a time", unit="query"):
        started = time.perf_counter()
        answer(query)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


@dataclass(frozen=True)
class Labelled:
    """A question with the article that answers it and, when labelled, the section: a `##` heading or "lead"."""

    question: str
    article: str
    section: str | None = None


def read_labelled(path: Path) -> list[Labelled]:
    """The labelled questions of a YAML file: {question, article} mappings, each with an optional `section`.

    Raises:
        ValueError: the file is not a non-empty list of {question, article} mappings.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty YAML list")
    labelled = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not {"question", "article"} <= item.keys():
            raise ValueError(f"{path}: item {number} must have 'question' and 'article'")
        section = None if item.get("section") is None else str(item["section"])
        labelled.append(Labelled(str(item["question"]), str(item["article"]), section))
    return labelled


def gold_sections(labelled: Sequence[Labelled], articles: Sequence[Article]) -> list[tuple[str, str] | None]:
    """(article id, help-page anchor) of each question's labelled section: anchor "" is the lead; None if unlabelled.

    Raises:
        ValueError: a label names an article or section that does not exist.
    """
    anchors = {(c.article_id, c.section if c.anchor else LEAD): c.anchor for a in articles for c in chunk_article(a)}
    known = {article.id for article in articles}
    wanted: list[tuple[str, str] | None] = []
    for item in labelled:
        if item.article not in known:
            raise ValueError(f"labelled question {item.question!r}: no article {item.article!r}")
        if item.section is None:
            wanted.append(None)
        elif (item.article, item.section) in anchors:
            wanted.append((item.article, anchors[item.article, item.section]))
        else:
            raise ValueError(f"labelled question {item.question!r}: {item.article} has no section {item.section!r}")
    return wanted


def section_top1(answers: Sequence[tuple[str, str] | None], wanted: Sequence[tuple[str, str] | None]) -> float | None:
    """Share (%) of section-labelled questions whose top (article id, anchor) is the labelled one; None if none are."""
    pairs = [(answer, gold) for answer, gold in zip(answers, wanted, strict=True) if gold is not None]
    return 100 * sum(answer == gold for answer, gold in pairs) / len(pairs) if pairs else None


def read_unanswerable(path: Path) -> list[str]:
    """The questions of an unanswerable-questions YAML list."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data or not all(isinstance(q, str) and q.strip() for q in data):
        raise ValueError(f"{path}: expected a non-empty YAML list of questions")
    return [str(question) for question in data]


def _top_section(passages: Sequence[Passage]) -> tuple[str, str] | None:
    return (passages[0].article_id, passages[0].anchor) if passages else None


def _article_top1(answers: Sequence[tuple[str, str] | None], gold: Sequence[str]) -> float:
    return 100 * sum(a is not None and a[0] == g for a, g in zip(answers, gold, strict=True)) / len(gold)


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
