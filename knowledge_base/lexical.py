"""Word-level BM25 over the chunks: the exact-word evidence ("okta", "VAT", "swimlanes") a sentence vector blurs."""

import re
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits; no stemming or stop words (BM25's idf discounts "how", "do", "i")."""
    return _TOKEN.findall(text.lower())


class LexicalIndex:
    """BM25 (Okapi, `rank_bm25`) over a list of texts, one score per text, scaled so the best text scores 1.

    Scaling by the query's best text puts the scores on the scale of a cosine, so they can be added to one with a
    fixed weight whatever the query's length. Thread-safe: read-only once built.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        from rank_bm25 import BM25Okapi  # imported on first build: only the engine needs it

        self._size = len(texts)
        self._bm25 = BM25Okapi([words(text) or [""] for text in texts]) if texts else None

    def scores(self, query: str) -> np.ndarray:
        """float32 scores in [0, 1] per text (all 0 when no query word occurs in any text)."""
        tokens = words(query)
        if self._bm25 is None or not tokens:
            return np.zeros(self._size, dtype=np.float32)
        raw = np.maximum(np.asarray(self._bm25.get_scores(tokens), dtype=np.float32), 0.0)
        top = float(raw.max())
        return raw / top if top > 0 else raw
