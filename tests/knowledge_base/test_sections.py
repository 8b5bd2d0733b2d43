"""knowledge_base/sections.py: the section of the chosen article, by its best sentence, the lead only by a margin."""

import pytest

from knowledge_base.documents import Chunk, sentence_rows
from knowledge_base.sections import LEAD_MARGIN, Scored, choose_section

LEAD = Chunk("f/x#0", "f/x", "Custom fields", "Custom fields", "/help/f/x", "Custom fields track budget on tasks.")
ADD = Chunk(
    "f/x#1", "f/x", "Custom fields", "Add a field", "/help/f/x", "1. Open Project settings.\n2. Click Add field.",
    "add-a-field",
)  # fmt: skip
LIMITS = Chunk(
    "f/x#2", "f/x", "Custom fields", "Limits per plan", "/help/f/x", "- Free: 5 fields\n- Starter: 50 fields",
    "limits-per-plan",
)  # fmt: skip


def _sentences(chunk: Chunk, *scores: float) -> list[Scored]:
    rows = sentence_rows(chunk)
    assert len(rows) == len(scores)
    return [Scored(row, score) for row, score in zip(rows, scores, strict=True)]


def test_a_section_scores_its_best_sentence_not_its_whole_text() -> None:
    chunks = [Scored(LEAD, 0.50), Scored(ADD, 0.55), Scored(LIMITS, 0.60)]
    sentences = [*_sentences(ADD, 0.40, 0.75), *_sentences(LIMITS, 0.58, 0.57)]

    assert choose_section(chunks).chunk is LIMITS  # by whole chunks
    assert choose_section(chunks, sentences).chunk is ADD


def test_the_lead_wins_only_by_the_margin() -> None:
    just_ahead = [Scored(LEAD, 0.60 + LEAD_MARGIN / 2), Scored(ADD, 0.60)]
    well_ahead = [Scored(LEAD, 0.60 + LEAD_MARGIN * 2), Scored(ADD, 0.60)]

    assert choose_section(just_ahead).chunk is ADD
    assert choose_section(well_ahead).chunk is LEAD
    assert choose_section(just_ahead, lead_margin=0.0).chunk is LEAD


def test_a_chunk_without_sentence_rows_keeps_its_own_score() -> None:
    chunks = [Scored(ADD, 0.70), Scored(LIMITS, 0.60)]

    assert choose_section(chunks, _sentences(LIMITS, 0.65, 0.66)).chunk is ADD


def test_an_article_with_only_its_lead_answers_with_the_lead() -> None:
    assert choose_section([Scored(LEAD, 0.2)]).chunk is LEAD


def test_ties_go_to_the_earlier_chunk() -> None:
    assert choose_section([Scored(ADD, 0.5), Scored(LIMITS, 0.5)]).chunk is ADD


def test_choose_section_needs_a_chunk() -> None:
    with pytest.raises(ValueError, match="at least one"):
        choose_section([])
