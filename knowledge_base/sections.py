"""Choosing the section of an article that answers a question: by its best sentence, the introduction last.

Articles are ranked by their chunks (a section's whole text), which find the right article well. Within the article,
sections are close in meaning and a whole-section vector is a blur, so each section scores its best-matching
sentence row instead. The lead (summary and introduction) matches every question about its article a little, and
"how do I ..." answered with the introduction is the classic miss, so it must beat the best section by a margin.
Both levers are measured in benchmarks/retrieval.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .documents import Chunk, parent_id

# Cosine the lead must win by. Measured on the labelled questions: 0 -> 0.05 -> 0.10 raise section top-1 and the
# lead is rarely the best answer; a larger margin would mean never answering with the introduction.
LEAD_MARGIN = 0.10


@dataclass(frozen=True)
class Scored:
    """An index row with its cosine similarity to the question."""

    chunk: Chunk
    score: float


def choose_section(
    chunks: Sequence[Scored], sentences: Sequence[Scored] = (), lead_margin: float = LEAD_MARGIN
) -> Scored:
    """The chunk of one article that answers the question.

    Args:
        chunks: the article's chunks with their cosines (at least one).
        sentences: the article's sentence rows with their cosines; a chunk without any keeps its own cosine.
            Pass none to choose by whole chunks.
        lead_margin: subtracted from the lead's score, so it wins only when clearly better.

    Returns:
        The chosen chunk, with its own cosine; ties go to the earlier chunk in `chunks`.
    """
    if not chunks:
        raise ValueError("choose_section needs at least one chunk")
    best_sentence: dict[str, float] = {}
    for row in sentences:
        key = parent_id(row.chunk)
        best_sentence[key] = max(best_sentence.get(key, row.score), row.score)

    def score(candidate: Scored) -> float:
        value = best_sentence.get(candidate.chunk.id, candidate.score)
        return value - (lead_margin if not candidate.chunk.anchor else 0.0)

    return max(chunks, key=score)
