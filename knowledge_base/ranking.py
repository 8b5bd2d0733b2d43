"""Ranking articles and choosing the answering section from every row's cosine and every chunk's lexical score.

A section scores its best-matching sentence row (a whole-section vector is a blur of everything it says; a question
usually matches one sentence closely; a question the author says the section answers is such a row too) plus a
weighted BM25 score of its chunk (exact words the vectors miss). An article ranks by its best section, and answers
with it; the lead (summary and introduction) matches every question about its article a little, and "how do I ..."
answered with the introduction is the classic miss, so within the article it must win by a margin. The confidence of
an answer stays the article's best whole-chunk cosine, the scale the `min_score` threshold was set on. Each lever is
measured in benchmarks/kb_benchmark.py.

Everything is NumPy over arrays prepared once per loaded index (`Layout`), so a search costs a few vector operations
rather than a Python loop over every row.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .documents import Chunk, parent_id

# Cosine the lead must win by within its article. Chosen with the lexical weight on the odd-numbered labelled
# questions and checked on the even ones (benchmarks/README.md); 0.10 before the lexical score was added.
LEAD_MARGIN = 0.20
# Weight of the chunk's scaled BM25 score (1 for the query's best chunk) added to its best sentence's cosine.
LEXICAL_WEIGHT = 0.15


@dataclass(frozen=True)
class Weights:
    """How sections are scored: `by_sentence` (else by whole chunk), the lexical weight and the lead's margin; and
    whether articles rank by their best section (else by their best whole chunk's cosine, as before issue 8)."""

    lexical: float = LEXICAL_WEIGHT
    lead_margin: float = LEAD_MARGIN
    by_sentence: bool = True
    articles_by_section: bool = True


@dataclass(frozen=True)
class Choice:
    """One ranked article: `chunk` is the index (into `Layout.chunks`) of its answering section, `score` its best
    whole-chunk cosine."""

    chunk: int
    score: float


class Layout:
    """Where each index row belongs, as arrays: rows of whole chunks, sentence rows by chunk, chunks by article.

    Row `i` of the index is `rows[i]`; chunks are taken in row order, articles in order of first appearance.
    """

    def __init__(self, rows: Sequence[Chunk]) -> None:
        chunk_rows = [i for i, row in enumerate(rows) if not row.sentence]
        self.chunks: list[Chunk] = [rows[i] for i in chunk_rows]
        position = {chunk.id: n for n, chunk in enumerate(self.chunks)}
        self.article_ids: list[str] = list(dict.fromkeys(chunk.article_id for chunk in self.chunks))
        article_of = {article_id: n for n, article_id in enumerate(self.article_ids)}
        self.chunk_rows = np.asarray(chunk_rows, dtype=np.int64)
        self.chunk_article = np.asarray([article_of[c.article_id] for c in self.chunks], dtype=np.int64)
        self.is_lead = np.asarray([not c.anchor for c in self.chunks], dtype=bool)
        sentence_rows = [i for i, row in enumerate(rows) if row.sentence and parent_id(row) in position]
        sentence_chunk = np.asarray([position[parent_id(rows[i])] for i in sentence_rows], dtype=np.int64)
        # Grouped for np.maximum.reduceat: sentence rows by their chunk, chunks by their article.
        order = np.argsort(sentence_chunk, kind="stable")
        self._sentence_rows = np.asarray(sentence_rows, dtype=np.int64)[order]
        self._sentence_starts, self._sentence_chunks = _segments(sentence_chunk[order])
        self._chunk_order = np.argsort(self.chunk_article, kind="stable")
        self._article_starts, self._articles = _segments(self.chunk_article[self._chunk_order])
        self.article_chunks: list[np.ndarray] = [np.flatnonzero(self.chunk_article == a) for a in range(len(self))]

    def __len__(self) -> int:
        """Number of articles."""
        return len(self.article_ids)

    def section_scores(self, row_scores: np.ndarray, lexical: np.ndarray, weights: Weights) -> np.ndarray:
        """Each chunk's score: its best sentence's cosine (its own without sentence rows) + weighted lexical score."""
        scores = row_scores[self.chunk_rows].astype(np.float32)
        if weights.by_sentence and len(self._sentence_rows):
            best = np.maximum.reduceat(row_scores[self._sentence_rows], self._sentence_starts)
            scores[self._sentence_chunks] = best
        return scores + weights.lexical * lexical if weights.lexical else scores

    def per_article_max(self, chunk_scores: np.ndarray) -> np.ndarray:
        """The best of each article's chunk scores, by article index."""
        best = np.full(len(self), -np.inf, dtype=np.float32)
        if len(self._chunk_order):
            best[self._articles] = np.maximum.reduceat(chunk_scores[self._chunk_order], self._article_starts)
        return best

    def rank(
        self, row_scores: np.ndarray, lexical: np.ndarray, weights: Weights, k: int, only: str | None = None
    ) -> list[Choice]:
        """The top `k` articles by their best section, each with the section that answers; `only` keeps one article.

        Args:
            row_scores: cosine of every index row, by row number.
            lexical: scaled lexical score of every chunk, in `chunks` order.
            weights: how sections score.
            k: how many articles at most.
            only: an article id to restrict the search to.

        Returns:
            Best first; ties go to the earlier article, and within an article to the earlier section.
        """
        sections = self.section_scores(row_scores, lexical, weights)
        confidence = self.per_article_max(row_scores[self.chunk_rows])
        ranking = self.per_article_max(sections) if weights.articles_by_section else confidence
        if only is not None:
            keep = np.asarray([article_id == only for article_id in self.article_ids])
            ranking = np.where(keep, ranking, -np.inf)
        chosen = [int(a) for a in np.argsort(-ranking, kind="stable")[:k] if np.isfinite(ranking[a])]
        answers = sections - weights.lead_margin * self.is_lead
        choices = []
        for article in chosen:
            candidates = self.article_chunks[article]
            choices.append(Choice(int(candidates[np.argmax(answers[candidates])]), float(confidence[article])))
        return choices


def _segments(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a sorted array of group numbers: where each run starts, and its group number."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return starts, groups[starts]
