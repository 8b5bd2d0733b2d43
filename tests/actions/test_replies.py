"""actions/replies.py: reply text for the plain-text widget, one message per reply."""

from actions.replies import excerpt, kb_answer, plain, possessive
from knowledge_base import Passage, SearchResult


def test_plain_drops_emphasis_and_blank_lines() -> None:
    assert plain("Open **Settings**.\n\n\nThen `Members`.\n  \nDone.") == "Open Settings.\nThen Members.\nDone."


def test_excerpt_cuts_at_a_sentence_end() -> None:
    text = "First sentence is here. " * 10 + "Tail without end"
    cut = excerpt(text, limit=100)
    assert cut.endswith("here. …")
    assert len(cut) <= 102


def test_short_text_is_kept_whole() -> None:
    assert excerpt("Short answer.") == "Short answer."


def test_kb_answer_quotes_the_section_and_links_its_anchor() -> None:
    passage = Passage("a/b", "Title", "Section", "/help/a/b", "Para one.\n\nPara two.", 0.8, anchor="section")
    reply = kb_answer(SearchResult("q", [passage], confident=True))
    assert "\n\n" not in reply.text
    assert reply.text == "Title — Section\nPara one.\nPara two."
    assert reply.sources == [{"title": "Title — Section", "url": "/help/a/b#section", "score": 0.8}], (
        "the score is for the console"
    )


def test_kb_answer_is_plain_text_with_steps_kept_on_their_lines() -> None:
    steps = "1. Go to **Settings > Members**.\n2. Click `Invite`.\n\nInvitations expire after 7 days."
    passage = Passage("a/b", "Invite", "Invite by email", "/help/a/b", steps, 0.7, anchor="invite-by-email")
    reply = kb_answer(SearchResult("q", [passage], confident=True))
    assert reply.text == (
        "Invite — Invite by email\n1. Go to Settings > Members.\n2. Click Invite.\nInvitations expire after 7 days."
    )
    assert "#" not in reply.text and "http" not in reply.text, "the link travels in the sources, not the text"


def test_intro_passage_is_headed_by_the_title_only_and_links_the_article() -> None:
    passage = Passage("a/b", "Title", "Title", "/help/a/b", "Intro.", 0.8)
    reply = kb_answer(SearchResult("q", [passage], confident=True))
    assert reply.text == "Title\nIntro."
    assert reply.sources == [{"title": "Title", "url": "/help/a/b", "score": 0.8}]


def test_possessive() -> None:
    assert possessive("Fernhollow Foods") == "Fernhollow Foods'"
    assert possessive("Acme") == "Acme's"
