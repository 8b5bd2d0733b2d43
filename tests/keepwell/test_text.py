"""keepwell/text.py: the topic words of a message."""

from keepwell.text import content_words


def test_topic_words_leave_out_small_words_and_read_curly_apostrophes() -> None:
    assert content_words("How do I invite my teammates?") == {"invite", "teammates"}
    assert content_words("it doesn\u2019t sync") == content_words("it doesn't sync") == {"doesn't", "sync"}
