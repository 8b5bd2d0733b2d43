"""Run-on messages: customers put two questions in one line ("how do i invite people and also how much is an extra
seat"). Split at the joints they use, so each question can be answered on its own; a message that is one question
stays whole."""

import re

from keepwell.text import content_words

# A question starts again after "?", ";", a full stop, "also", "and then", "plus", or an "and" that opens a new
# question ("and how ...", "and can we ...", "and do you ..."). An "and" between two nouns ("comments and
# attachments") is not a joint.
_JOINT = re.compile(
    r"\s*(?:\?+|;|(?<=[a-z0-9])\.(?=\s)|,?\s+(?:and\s+)?also\b|,?\s+and\s+then\b|,?\s+plus\b|"
    r",?\s+and\s+(?=(?:how|what|why|when|where|which|who|whose|can|could|do|does|did|is|are|was|will|would|should|"
    r"shall|may|i|we|my|our)\b))\s*",
    re.IGNORECASE,
)
# A piece needs a topic word and a few words in all to be a question of its own ("and also?", "thanks" are not).
_MIN_WORDS = 3
MAX_QUESTIONS = 3


def split_questions(text: str) -> list[str]:
    """The questions a message asks, in order; a single question (or nothing to split) comes back whole.

    Pieces too short to stand alone are joined to the question before them, and at most `MAX_QUESTIONS` are kept
    (the rest stays with the last one).
    """
    pieces = [piece.strip(" ,.!") for piece in _JOINT.split(text)]
    questions: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if questions and (not _stands_alone(piece) or len(questions) == MAX_QUESTIONS):
            questions[-1] = f"{questions[-1]} {piece}"
        else:
            questions.append(piece)
    if len(questions) > 1 and not _stands_alone(questions[0]):
        questions[1] = f"{questions[0]} {questions[1]}"  # "ok so" before the real question
        del questions[0]
    return questions if len(questions) > 1 else [text.strip()]


def _stands_alone(piece: str) -> bool:
    return len(piece.split()) >= _MIN_WORDS and bool(content_words(piece))
