"""knowledge_base/ranking.py: articles by their best section; a section by its best sentence plus its exact words;
the lead only by a margin; the confidence stays the best whole chunk's cosine."""

import numpy as np
import pytest

from knowledge_base.documents import Chunk, sentence_rows
from knowledge_base.ranking import Layout, Weights

LEAD = Chunk("f/x#0", "f/x", "Custom fields", "Custom fields", "/help/f/x", "Custom fields track budget on tasks.")
ADD = Chunk(
    "f/x#1", "f/x", "Custom fields", "Add a field", "/help/f/x", "1. Open Project settings.\n2. Click Add field.",
    "add-a-field",
)  # fmt: skip
LIMITS = Chunk(
    "f/x#2", "f/x", "Custom fields", "Limits per plan", "/help/f/x", "- Free: 5 fields\n- Starter: 50 fields",
    "limits-per-plan",
)  # fmt: skip
OTHER = Chunk("b/y#0", "b/y", "Billing", "Billing", "/help/b/y", "Pay by card.")
# Index rows as the engine builds them: every chunk, then every chunk's sentences.
ROWS = [LEAD, ADD, LIMITS, OTHER, *sentence_rows(ADD), *sentence_rows(LIMITS)]
DENSE = Weights(lexical=0.0, lead_margin=0.0)


def _scores(lead: float, add: float, limits: float, other: float, *sentences: float) -> np.ndarray:
    assert len(sentences) == len(ROWS) - 4
    return np.asarray([lead, add, limits, other, *sentences], dtype=np.float32)


def _rank(row_scores: np.ndarray, weights: Weights, lexical: list[float] | None = None, **kwargs: object):
    layout = Layout(ROWS)
    words = np.asarray(lexical or [0.0] * len(layout.chunks), dtype=np.float32)
    return [(layout.chunks[c.chunk], c.score) for c in layout.rank(row_scores, words, weights, **kwargs)]


def test_the_layout_groups_rows_by_chunk_and_article() -> None:
    layout = Layout(ROWS)

    assert [c.id for c in layout.chunks] == ["f/x#0", "f/x#1", "f/x#2", "b/y#0"]
    assert layout.article_ids == ["f/x", "b/y"]
    assert layout.is_lead.tolist() == [True, False, False, True]


def test_a_section_scores_its_best_sentence_not_its_whole_text() -> None:
    scores = _scores(0.50, 0.55, 0.60, 0.1, 0.40, 0.75, 0.58, 0.57)

    [(by_chunk, _)] = _rank(scores, Weights(lexical=0.0, lead_margin=0.0, by_sentence=False), k=1)
    [(by_sentence, confidence)] = _rank(scores, DENSE, k=1)

    assert (by_chunk, by_sentence) == (LIMITS, ADD)
    assert confidence == pytest.approx(0.60)  # the article's best whole chunk, whichever section answers


def test_the_lead_wins_only_by_the_margin() -> None:
    just_ahead = _scores(0.65, 0.60, 0.1, 0.1, 0.60, 0.1, 0.1, 0.1)
    well_ahead = _scores(0.80, 0.60, 0.1, 0.1, 0.60, 0.1, 0.1, 0.1)
    margin = Weights(lexical=0.0, lead_margin=0.10)

    assert _rank(just_ahead, margin, k=1)[0][0] is ADD
    assert _rank(well_ahead, margin, k=1)[0][0] is LEAD
    assert _rank(just_ahead, DENSE, k=1)[0][0] is LEAD


def test_exact_words_break_a_near_tie_between_sections_and_between_articles() -> None:
    scores = _scores(0.1, 0.1, 0.1, 0.62, 0.60, 0.1, 0.58, 0.1)
    words_of_limits = [0.0, 0.0, 1.0, 0.0]

    assert [c for c, _ in _rank(scores, DENSE, k=2)] == [OTHER, ADD]
    assert [c for c, _ in _rank(scores, Weights(lexical=0.15, lead_margin=0.0), words_of_limits, k=2)] == [
        LIMITS,
        OTHER,
    ]


def test_articles_can_rank_by_their_best_whole_chunk_as_before() -> None:
    scores = _scores(0.30, 0.30, 0.30, 0.50, 0.90, 0.1, 0.1, 0.1)

    by_section = _rank(scores, DENSE, k=2)
    by_chunk = _rank(scores, Weights(lexical=0.0, lead_margin=0.0, articles_by_section=False), k=2)

    assert [c.article_id for c, _ in by_section] == ["f/x", "b/y"]
    assert [c.article_id for c, _ in by_chunk] == ["b/y", "f/x"]


def test_only_keeps_one_article_and_k_limits() -> None:
    scores = _scores(0.3, 0.3, 0.3, 0.9, 0.3, 0.3, 0.3, 0.3)

    assert [c.article_id for c, _ in _rank(scores, DENSE, k=5, only="f/x")] == ["f/x"]
    assert len(_rank(scores, DENSE, k=1)) == 1
    assert _rank(scores, DENSE, k=5, only="nowhere") == []


def test_ties_go_to_the_earlier_section_and_article() -> None:
    flat = np.full(len(ROWS), 0.5, dtype=np.float32)

    assert [c for c, _ in _rank(flat, DENSE, k=2)] == [LEAD, OTHER]


def test_an_article_with_only_its_lead_answers_with_the_lead() -> None:
    assert _rank(_scores(0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1), DENSE, k=1, only="b/y")[0][0] is OTHER
