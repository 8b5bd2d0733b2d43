"""Spelling correction of queries against the help centre's own words ("cancle subscripton" -> "cancel subscription").

The embedding model's word pieces turn a misspelt word into unrelated fragments ("invte" -> "in", "##vte") and the
lexical index cannot match it at all, so a query word the help centre never uses is replaced by the help-centre word
closest to it in edit distance, the most frequent on a tie. Candidates come from a symmetric-delete table (the SymSpell
idea, Garbe 2012): every vocabulary word is stored under each string made by deleting up to two of its letters, and a
query word looks up its own deletes, so a lookup costs a few dozen dictionary hits rather than a scan of the
vocabulary. Written here rather than taken from symspellpy or rapidfuzz: the whole algorithm is these few lines, and a
new package would rebuild every environment.
"""

import re
from collections import Counter
from collections.abc import Iterable
from itertools import combinations

# Words shorter than this are left alone: at three letters nearly every string is one edit from some real word.
MIN_WORD_CHARS = 4
# Edits allowed for a word of this many letters or more (one edit below): "subscripton" is 1 away, "permanantly" 1,
# "autentication" 1; two edits in a five-letter word would turn "kick" into "click".
TWO_EDITS_FROM_CHARS = 7
_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = re.compile(r"[a-z]+")


# Contractions typed without their apostrophe: the help centre never writes them, and "cant" corrected to "can" would
# reverse the question.
CONTRACTIONS = frozenset(
    "arent cant couldnt didnt doesnt dont hadnt hasnt havent isnt shouldnt thats theres theyre wasnt werent whats "
    "wont wouldnt youre".split()
)
# Endings stripped to recognise an inflected known word ("pinging" is "ping" + "ing"), so it is not "corrected".
_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")


class Speller:
    """Corrects query words against a vocabulary with word frequencies (the help centre's own text).

    A word is left alone when it is in the vocabulary or in `known` (real words the help centre does not happen to
    use: "stuff" must not become "staff"), is an inflection or a two-word compound of such words ("pinging",
    "timezone"), holds a digit, or is short. Thread-safe: read-only once built.
    """

    def __init__(self, words: Iterable[str], known: Iterable[str] = ()) -> None:
        self._frequency: Counter[str] = Counter(w for w in words if _LETTERS.fullmatch(w))
        self._known = frozenset(known) | CONTRACTIONS | self._frequency.keys()
        self._deletes: dict[str, list[str]] = {}
        for word in self._frequency:
            if len(word) >= MIN_WORD_CHARS - 1:
                for variant in _deletes(word, _max_edits(word)):
                    self._deletes.setdefault(variant, []).append(word)

    @classmethod
    def from_texts(cls, texts: Iterable[str], known: Iterable[str] = ()) -> "Speller":
        """A speller whose vocabulary is every word (lower-cased letters) of `texts`."""
        return cls((word for text in texts for word in _WORD.findall(text.lower())), known)

    def correct_word(self, word: str) -> str:
        """The vocabulary word closest to `word` (lower-cased), or `word` itself if it is known or nothing is close.

        An inflection or compound of known words ("pinging", "timezone") is corrected only to a help-centre word one
        edit away ("teamates" -> "teammates", "planing" -> "planning"), never two.
        """
        word = word.lower()
        if len(word) < MIN_WORD_CHARS or not _LETTERS.fullmatch(word) or word in self._known:
            return word
        limit = 1 if self._derived(word) else _max_edits(word)
        candidates = {c for variant in _deletes(word, limit) for c in self._deletes.get(variant, ())}
        best, best_key = word, (limit + 1, 0)
        for candidate in candidates:
            distance = edit_distance(word, candidate, limit)
            key = (distance, -self._frequency[candidate])
            if distance <= limit and (key < best_key or (key == best_key and candidate < best)):
                best, best_key = candidate, key
        return best

    def correct(self, text: str) -> str:
        """`text` lower-cased, with every unknown word replaced by its correction."""
        return _WORD.sub(lambda match: self.correct_word(match.group(0)), text.lower())

    def _derived(self, word: str) -> bool:
        """An inflection ("pinging") or a two-word compound ("timezone") of known words."""
        if any(word.endswith(end) and word[: -len(end)] in self._known for end in _ENDINGS):
            return True
        return any(word[:i] in self._known and word[i:] in self._known for i in range(3, len(word) - 2))


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (insertions, deletions, substitutions, adjacent swaps), capped at limit + 1.

    Swaps count once because "teh" and "exprot" are one slip of the fingers, not two.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _max_edits(word: str) -> int:
    return 2 if len(word) >= TWO_EDITS_FROM_CHARS else 1


def _deletes(word: str, edits: int) -> set[str]:
    """`word` and every string made from it by deleting up to `edits` letters."""
    variants = {word}
    for count in range(1, min(edits, len(word) - 1) + 1):
        for gone in combinations(range(len(word)), count):
            variants.add("".join(letter for i, letter in enumerate(word) if i not in gone))
    return variants
