"""knowledge_base/spelling.py: unknown query words corrected to the closest help-centre word; known words kept."""

import pytest

from knowledge_base.spelling import Speller, edit_distance

HELP_CENTRE = [
    "Invite teammates to your workspace by email.",
    "Cancel your subscription at any time; export your data first.",
    "Staff accounts and staff roles. Planning templates for sprint planning.",
    "Plans and billing: annual billing, monthly billing.",
]
ENGLISH = {"stuff", "kick", "time", "zone", "ping", "can", "the", "my"}


@pytest.fixture
def speller() -> Speller:
    return Speller.from_texts(HELP_CENTRE, known=ENGLISH)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("invte", "invite"),  # a dropped letter
        ("teamates", "teammates"),  # a compound of real words, yet one edit from a help-centre word
        ("cancle", "cancel"),  # two letters swapped: one edit
        ("subscripton", "subscription"),
        ("exprot", "export"),
        ("workspcae", "workspace"),  # two edits in a long word
        ("planing", "planning"),
        ("Billling", "billing"),
    ],
)
def test_misspelt_words_become_the_help_centre_word(speller: Speller, typed: str, meant: str) -> None:
    assert speller.correct_word(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "stuff",  # a real word the help centre does not use stays, though "staff" is one edit away
        "timezone",  # a compound of real words with no help-centre word one edit away
        "pinging",  # an inflection of a real word
        "cant",  # a contraction without its apostrophe: "can" would reverse the question
        "usr",  # too short to guess
        "2fa",  # digits
        "xylophone",  # nothing close
        "billing",
    ],
)
def test_known_short_and_unmatched_words_are_kept(speller: Speller, word: str) -> None:
    assert speller.correct_word(word) == word


def test_a_sentence_is_corrected_word_by_word_and_keeps_its_punctuation(speller: Speller) -> None:
    assert speller.correct("How do I invte my teamates, and cancle?") == "how do i invite my teammates, and cancel?"


def test_the_more_frequent_word_wins_a_tie() -> None:
    speller = Speller(["plan", "plan", "plan", "clan"])

    assert speller.correct_word("ylan") == "plan"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("cancel", "cancel", 0), ("cancle", "cancel", 1), ("invte", "invite", 1), ("stuff", "staff", 1),
     ("abc", "xyz", 3), ("subscripton", "sub", 3)],
)  # fmt: skip
def test_edit_distance_counts_a_swap_once_and_is_capped(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=2) == min(distance, 3)
