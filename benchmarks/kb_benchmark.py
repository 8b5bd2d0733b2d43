"""The knowledge base on Keepwell's own labelled help-centre questions: article and section top-1, misspelt
questions, each ranking lever switched off in turn on the same index, and a BM25 baseline beside it."""

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from knowledge_base import Embedder, KnowledgeBase, Passage
from knowledge_base.documents import Article, chunk_article, load_articles, passage_text
from knowledge_base.ranking import Weights

from .metrics import latency_summary, ranking_scores
from .report import BenchmarkResult, Row
from .retrieval import time_queries

KB_SYSTEM = (
    "Keepwell knowledge base (MiniLM + FAISS; a section scores its best sentence or author's question + 0.15 × BM25, "
    "articles by best section, lead margin 0.20, misspellings corrected)"
)
# The articles' `questions:` left out: a second index, built without them, searched with the shipped weights.
NO_QUESTIONS = "Lever off: no section questions (index built without them)"
# Each lever switched off alone on the same index, then the engines before: (row name, weights, spelling).
LEVERS: tuple[tuple[str, Weights, bool], ...] = (
    ("Lever off: no spelling correction", Weights(), False),
    ("Lever off: no lexical score", Weights(lexical=0.0), True),
    ("Lever off: articles by their best whole chunk", Weights(articles_by_section=False), True),
    ("Lever off: lead margin 0.10 instead of 0.20", Weights(lead_margin=0.10), True),
    (
        "Before issue 8: articles by best chunk, section by best sentence, lead margin 0.10",
        Weights(lexical=0.0, lead_margin=0.10, articles_by_section=False),
        False,
    ),
    (
        "Before section answers: section = best chunk of the article",
        Weights(lexical=0.0, lead_margin=0.0, by_sentence=False, articles_by_section=False),
        False,
    ),
)
BEFORE = LEVERS[4][0]  # split into halves beside the shipped engine
BM25_SYSTEM = "BM25 baseline (rank_bm25 Okapi, best chunk per article)"
HYBRID_SYSTEM = "Knowledge base + BM25, reciprocal rank fusion of article rankings (measured, not shipped)"
RRF_K = 60
LEAD = "lead"  # the section label of a question the article's introduction answers
_TOKEN = re.compile(r"[a-z0-9]+")


def run_kb_benchmark(
    embedder: Embedder,
    content_dir: Path,
    labelled_path: Path,
    unanswerable_path: Path,
    work_dir: Path,
    min_score: float,
    typo_path: Path | None = None,
) -> BenchmarkResult:
    """Article top-1, section top-1, recall@3 and MRR of the knowledge base on labelled questions, beside BM25.

    Args:
        embedder: the project's embedder.
        content_dir: the articles.
        labelled_path: YAML list of {question, article, section}.
        unanswerable_path: YAML list of questions the articles cannot answer.
        work_dir: where the index is built (always rebuilt, so its build time is measured).
        min_score: the knowledge base's confidence threshold (from settings).
        typo_path: optional YAML list of misspelt {question, article, section}, scored in their own column.
    """
    labelled = read_labelled(labelled_path)
    typos = read_labelled(typo_path) if typo_path else []
    unanswerable = read_unanswerable(unanswerable_path)
    articles = load_articles(content_dir)
    wanted = gold_sections(labelled, articles)
    gold_sections(typos, articles)  # refuses a misspelt question labelled with a section that does not exist
    kb = KnowledgeBase(embedder, index_dir=work_dir / "kb-index", content_dir=content_dir, min_score=min_score)
    print(f"Knowledge base: {len(articles)} articles, {len(labelled)} labelled questions", flush=True)
    build = kb.build(force=True, progress=True)
    plain = KnowledgeBase(
        embedder, index_dir=work_dir / "kb-index-no-questions", content_dir=content_dir, min_score=min_score,
        questions=False,
    )  # fmt: skip
    plain.build(force=True, progress=True)
    questions = [item.question for item in labelled]
    gold = [item.article for item in labelled]
    # The production call (top_k articles), the engine without section questions timed alternately beside it.
    latencies, plain_latencies = time_alternately(questions, kb.search, plain.search)
    encode_ms, rank_ms = split_timings(kb, questions)
    plain_rank_ms = split_timings(plain, questions)[1]
    rankings, confident, asked, answers = [], 0, 0, []
    for question in tqdm(questions, desc="Ranking all articles", unit="question"):
        result = kb.search(question, k=len(articles))
        rankings.append([passage.article_id for passage in result.passages])
        answers.append(_top_section(result.passages))
        confident += result.confident
        asked += kb.search(question).ambiguous
    refused = [not kb.search(question, k=1).confident for question in unanswerable]
    kb_scores = ranking_scores(rankings, gold, k=3)
    halves = (
        ("odd-numbered questions (weights chosen on these)", range(0, len(labelled), 2)),
        ("even-numbered questions (held out)", range(1, len(labelled), 2)),
    )

    def rows_of(
        name: str, tops: list[tuple[str, str] | None], extra: dict[str, float], split: bool, engine: KnowledgeBase = kb
    ) -> list[Row]:
        """One configuration's row (with misspelt top-1 and `extra` values), and with `split` one per half."""
        values = {"top1": _article_top1(tops, gold), "section_top1": section_top1(tops, wanted), **extra}
        if typos:
            values["typo_top1"] = _article_top1(top_sections(engine, typos), [item.article for item in typos])
        rows = [Row(name, "this run", values)]
        for label, half in halves if split else ():
            picked = [tops[i] for i in half]
            rows.append(Row(f"… {label}", "this run", {
                "top1": _article_top1(picked, [gold[i] for i in half]),
                "section_top1": section_top1(picked, [wanted[i] for i in half]),
            }))  # fmt: skip
        return rows

    p50, p95 = latency_summary(latencies)
    rows = rows_of(KB_SYSTEM, answers, {
        "recall_at_3": kb_scores.recall_at_k, "mrr": kb_scores.mrr,
        "unanswerable_refused": 100 * sum(refused) / len(refused), "train_seconds": build.seconds,
        "latency_p50_ms": p50, "latency_p95_ms": p95,
    }, split=True)  # fmt: skip
    plain_p50, plain_p95 = latency_summary(plain_latencies)
    plain_refused = [not plain.search(question, k=1).confident for question in unanswerable]
    rows += rows_of(NO_QUESTIONS, top_sections(plain, labelled), {
        "unanswerable_refused": 100 * sum(plain_refused) / len(plain_refused),
        "latency_p50_ms": plain_p50, "latency_p95_ms": plain_p95,
    }, split=True, engine=plain)  # fmt: skip
    shipped = (kb.weights, kb.spelling)
    for name, weights, spelling in LEVERS:
        kb.weights, kb.spelling = weights, spelling
        rows += rows_of(name, top_sections(kb, labelled), {}, split=name == BEFORE)
    kb.weights, kb.spelling = shipped

    bm25_started = time.perf_counter()
    bm25 = BM25Articles(articles)
    bm25_seconds = time.perf_counter() - bm25_started
    bm25_latencies = time_queries(questions, bm25.rank)
    bm25_sections = [bm25.sections(question) for question in questions]
    bm25_rankings = [[article_id for article_id, _ in ranking] for ranking in bm25_sections]
    bm25_answers = [ranking[0] if ranking else None for ranking in bm25_sections]
    bm25_scores = ranking_scores(bm25_rankings, gold, k=3)
    # Fusing whole rankings, measured beside the shipped fusion of scores inside each section.
    pairs = zip(rankings, bm25_rankings, strict=True)
    fused = [reciprocal_rank_fusion([dense, lexical], RRF_K) for dense, lexical in pairs]
    fused_scores = ranking_scores(fused, gold, k=3)
    b50, b95 = latency_summary(bm25_latencies)
    rows += [
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
    written = sum(len(section_questions) for article in articles for _, section_questions in article.questions)
    index_rows, plain_rows = kb.stats()["chunks"], plain.stats()["chunks"]  # every row: chunks, sentences, questions
    weights = kb.weights
    setup = [
        f"Questions: {len(labelled)} labelled (`{labelled_path.name}`, one right article each, {sectioned} with the "
        f"right section too), {len(typos)} misspelt ({typo_path.name if typo_path else 'none'}) and "
        f"{len(unanswerable)} unanswerable (`{unanswerable_path.name}`); {len(articles)} articles in "
        f"`{content_dir.name}/`, {build.chunks} chunks, and {written} questions the articles' authors say a section "
        "answers (front matter `questions:`).",
        f"Knowledge base: `knowledge_base.KnowledgeBase` with `{embedder.name}` and FAISS, index rebuilt for this "
        "run (Train s). Ranking: every article by its best section; MRR counts a miss as 0.",
        "Section top-1 %: the top answer is the right article and the right section (its `##` heading, or the lead), "
        f"over the {sectioned} questions labelled with a section. A section scores its best-matching row's cosine "
        "(one of its sentences or of its author's questions, each embedded under the title and heading) plus "
        f"{weights.lexical:.2f} × its chunk's BM25 score (over its text and its questions, scaled so the query's "
        "best chunk scores 1); "
        f"the lead answers only if it wins by {weights.lead_margin:.2f} (`knowledge_base.ranking`). Query words the "
        "help centre and the model's vocabulary do not know are corrected to the closest help-centre word "
        "(`knowledge_base.spelling`).",
        "Halves: the lexical weight and the lead margin, and how section questions count (like sentences, their "
        "words in BM25), were chosen on the odd-numbered labelled questions (1st, 3rd, ...); the even-numbered ones "
        "are held out. The section questions were written from the articles alone, without reading any labelled, "
        "misspelt or unanswerable question. The misspelt questions were written by hand and never used to choose "
        "anything.",
        "Lever rows: first the section questions left out (a second index built without them, everything else as "
        "shipped, latency measured in the same run); then each other part switched off alone on the shipped "
        "index; the before rows are the engines before issue 8 and before section answers, both with the section "
        "questions.",
        f"Unanswerable refused %: share of unanswerable questions whose best score (the article's best whole-chunk "
        f"cosine) is below the settings' kb_min_score {min_score:.2f}; on the labelled questions it answered "
        f"confidently {100 * confident / len(questions):.1f}% of the time and asked which article was meant "
        f"{100 * asked / len(questions):.1f}% of the time (settings' ambiguity margin).",
        "BM25: `rank_bm25.BM25Okapi` over the same chunk texts the embedder sees, lower-cased [a-z0-9]+ tokens, no "
        "stemming or stop words; an article scores its best chunk, which is its section. It has no calibrated "
        "threshold, so no refusals.",
        f"Hybrid: reciprocal rank fusion (k={RRF_K}, Cormack et al. 2009) of the two article rankings above.",
        f"Latency: each labelled question searched alone, as the bot does (knowledge base: top_k articles), the "
        "index without section questions alternately with the shipped one. Median split: encoding the query "
        f"{encode_ms:.1f} ms, everything else (spelling, BM25, ranking over {index_rows} rows) "
        f"{rank_ms:.2f} ms; without section questions {plain_rank_ms:.2f} ms over {plain_rows} rows.",
    ]
    return BenchmarkResult(
        dataset="keepwell",
        kind="kb",
        title="Keepwell help centre: knowledge-base retrieval on labelled questions",
        rows=rows,
        setup=setup,
    )


def time_alternately(
    queries: Sequence[str], first: Callable[[str], object], second: Callable[[str], object]
) -> tuple[list[float], list[float]]:
    """Milliseconds each of two engines takes per query alone, alternating query by query so both see the same
    machine load (other jobs share it)."""
    timings: tuple[list[float], list[float]] = ([], [])
    for query in tqdm(queries, desc="Timing queries one at a time, two engines", unit="query"):
        for answer, spent in zip((first, second), timings, strict=True):
            started = time.perf_counter()
            answer(query)
            spent.append((time.perf_counter() - started) * 1000)
    return timings


def split_timings(kb: KnowledgeBase, questions: Sequence[str]) -> tuple[float, float]:
    """Median milliseconds to encode a question, and to search with its vector (everything but encoding)."""
    encode, rank = [], []
    for question in questions:
        started = time.perf_counter()
        vector = kb.encode_query(question)
        encoded = time.perf_counter()
        kb.search(question, vector=vector)
        encode.append((encoded - started) * 1000)
        rank.append((time.perf_counter() - encoded) * 1000)
    return statistics.median(encode), statistics.median(rank)


def top_sections(kb: KnowledgeBase, questions: Sequence["Labelled"]) -> list[tuple[str, str] | None]:
    """(article id, anchor) of the knowledge base's top answer to each question."""
    return [_top_section(kb.search(item.question, k=1).passages) for item in questions]


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
