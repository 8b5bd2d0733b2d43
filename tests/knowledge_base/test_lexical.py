"""knowledge_base/lexical.py: BM25 over chunk texts, scaled so the best text scores 1."""

import numpy as np
import pytest

from knowledge_base.lexical import LexicalIndex, words

TEXTS = ["Connect Okta for single sign-on", "Invite teammates by email", "Email digests and notifications"]


def test_words_are_lower_case_letters_and_digits() -> None:
    assert words("Can't log in to Orbitly 2FA!") == ["can", "t", "log", "in", "to", "orbitly", "2fa"]


def test_the_text_sharing_the_rare_word_scores_one_and_the_others_less() -> None:
    scores = LexicalIndex(TEXTS).scores("okta login")

    assert scores.dtype == np.float32
    assert scores.tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_scores_rank_by_shared_words() -> None:
    scores = LexicalIndex(TEXTS).scores("invite by email")

    assert scores[1] == pytest.approx(1.0)
    assert 0 < scores[2] < scores[1] and scores[0] == 0


@pytest.mark.parametrize("query", ["", "?!", "nothing matches here"])
def test_a_query_without_known_words_scores_zero_everywhere(query: str) -> None:
    assert LexicalIndex(TEXTS).scores(query).tolist() == [0.0, 0.0, 0.0]


def test_an_empty_index_scores_nothing() -> None:
    assert LexicalIndex([]).scores("anything").shape == (0,)
