"""Questions a section answers: the `questions:` front-matter key an article author fills in, read and checked.

Help-centre tools let authors attach the phrasings customers use to an article; here they are attached to a `##`
section (or to the lead), because a question usually matches the words of the section that answers it only loosely
("make someone an admin" vs. "Change a member's role"). They live in the front matter so the help page never shows
them. Each question becomes one more row of its section in the index (`documents.question_rows`).
"""

from collections.abc import Sequence

# The key naming the article's introduction (summary and the text before the first `##` heading).
LEAD = "lead"

SectionQuestions = tuple[tuple[str, tuple[str, ...]], ...]


def parse_questions(raw: object, headings: Sequence[str], has_lead: bool) -> SectionQuestions:
    """Check the `questions:` value of an article's front matter and return it as (section, questions) pairs.

    Args:
        raw: the value under `questions:`, a mapping of `lead` or a `##` heading (as written) to a list of questions;
            None when the key is absent.
        headings: the article's `##` headings with text under them, in reading order.
        has_lead: whether the article has a lead (a summary or text before its first heading).

    Returns:
        Pairs in the mapping's order, each question with its white space collapsed.

    Raises:
        ValueError: not a mapping, a heading the article lacks (or has twice), or questions that are not a
            non-empty list of text. The message names the heading; the caller adds the file.
    """
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ValueError("'questions' must map a section heading (or 'lead') to a list of questions")
    known = set(headings)
    pairs = []
    for key, questions in raw.items():
        section = str(key)
        if section == LEAD:
            if not has_lead:
                raise ValueError("'questions' names the lead, but the article has no summary or introduction")
        elif section not in known:
            raise ValueError(f"'questions' names a section the article does not have: {section!r}")
        elif headings.count(section) > 1:
            raise ValueError(f"'questions' names a heading the article has twice: {section!r}")
        pairs.append((section, _questions(section, questions)))
    return tuple(pairs)


def _questions(section: str, questions: object) -> tuple[str, ...]:
    if isinstance(questions, str):
        questions = [questions]
    if not isinstance(questions, list) or not questions:
        raise ValueError(f"'questions' for {section!r} must be a list of questions")
    if not all(isinstance(q, str) and q.strip() for q in questions):
        raise ValueError(f"'questions' for {section!r} must be text, one question per item")
    return tuple(" ".join(q.split()) for q in questions)
