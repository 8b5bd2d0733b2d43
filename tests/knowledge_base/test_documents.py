"""Loading articles and cutting them into chunks."""

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge_base.documents import (
    MAX_CHUNK_CHARS,
    Article,
    ArticleError,
    chunk_article,
    content_hash,
    load_articles,
    parent_id,
    passage_text,
    question_rows,
    section_anchor,
    section_url,
    sentence_rows,
    unique_anchors,
)


def _article(body: str, title: str = "Use boards", summary: str = "") -> Article:
    return Article(
        id="features/boards", title=title, summary=summary, category="features", url="/help/features/boards", body=body
    )


def test_load_articles_reads_front_matter_ids_and_urls(content_dir: Path) -> None:
    articles = load_articles(content_dir, base_url="/help/")

    assert [a.id for a in articles] == [
        "billing/cancel-subscription",
        "billing/download-invoices",
        "getting-started/invite-teammates",
    ]
    invite = articles[2]
    assert invite.title == "Invite teammates to your workspace"
    assert invite.summary == "Add colleagues to a workspace."
    assert invite.category == "getting-started"
    assert invite.url == "/help/getting-started/invite-teammates"
    assert invite.body.startswith("Workspace admins can invite teammates by email.")
    assert "---" not in invite.body


def test_load_articles_ignores_files_outside_category_folders(content_dir: Path) -> None:
    (content_dir / "README.md").write_text("# Not an article\n", encoding="utf-8")
    (content_dir / "billing" / "notes.txt").write_text("not markdown", encoding="utf-8")

    assert len(load_articles(content_dir)) == 3


def test_load_articles_accepts_crlf_bom_and_missing_summary(tmp_path: Path) -> None:
    path = tmp_path / "faq" / "windows.md"
    path.parent.mkdir()
    path.write_bytes("\ufeff---\r\ntitle: Saved on Windows\r\n---\r\nBody text.\r\n".encode())

    [article] = load_articles(tmp_path)

    assert (article.title, article.summary, article.body) == ("Saved on Windows", "", "Body text.")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("title: No fences\n\nBody", "missing front matter"),
        ("---\ntitle: [unclosed\n---\nBody", "not valid YAML"),
        ("---\n- a list\n---\nBody", "must be a mapping"),
        ("---\nsummary: No title here\n---\nBody", "no 'title'"),
        ("---\ntitle: '   '\n---\nBody", "no 'title'"),
        ("---\ntitle: Fine\nsummary: [1, 2]\n---\nBody", "'summary' must be text"),
        ("---\ntitle: Empty\n---\n\n  \n", "no body"),
    ],
)
def test_bad_articles_are_refused_naming_the_file(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "broken" / "article.md"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ArticleError) as raised:
        load_articles(tmp_path)

    assert str(path) in str(raised.value)
    assert complaint in str(raised.value)


def test_missing_content_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="content directory not found"):
        load_articles(tmp_path / "nowhere")


def test_chunks_are_the_lead_then_one_per_section() -> None:
    article = _article(
        "Boards show tasks.\n\n## Create a board\nClick New board.\n\n### Templates\nPick one.\n\n"
        "## Archive\nUse the menu.",
        summary="All about boards.",
    )

    chunks = chunk_article(article)

    assert [(c.section, c.text) for c in chunks] == [
        ("Use boards", "All about boards.\n\nBoards show tasks."),
        ("Create a board", "Click New board.\n\n### Templates\nPick one."),
        ("Archive", "Use the menu."),
    ]
    assert [c.id for c in chunks] == ["features/boards#0", "features/boards#1", "features/boards#2"]
    assert {(c.article_id, c.title, c.url) for c in chunks} == {
        ("features/boards", "Use boards", "/help/features/boards")
    }


def test_article_starting_with_a_section_and_empty_sections() -> None:
    chunks = chunk_article(
        _article("## First\nText one.\n\n## Empty\n\n## Last ##\nText two.\n##Not a heading\n## C#\nText.")
    )

    assert [(c.section, c.text) for c in chunks] == [
        ("First", "Text one."),
        ("Last", "Text two.\n##Not a heading"),
        ("C#", "Text."),
    ]


def test_summary_alone_makes_the_lead_chunk() -> None:
    chunks = chunk_article(_article("## Only section\nText.", summary="The summary."))

    assert [(c.section, c.text) for c in chunks] == [("Use boards", "The summary."), ("Only section", "Text.")]


def test_headings_inside_code_fences_do_not_split() -> None:
    body = "## Webhooks\nExample payload:\n\n```\n## not a heading\n```\n\nMore text."

    [chunk] = chunk_article(_article(body))

    assert chunk.section == "Webhooks"
    assert "## not a heading" in chunk.text


def test_long_sections_are_split_between_paragraphs_without_losing_text() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(12)]
    body = "## Long section\n" + "\n\n".join(p.strip() for p in paragraphs)

    chunks = chunk_article(_article(body))

    assert len(chunks) > 1
    assert all(c.section == "Long section" for c in chunks)
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert "\n\n".join(c.text for c in chunks) == "\n\n".join(p.strip() for p in paragraphs)


def test_one_huge_paragraph_is_split_by_sentences_and_words() -> None:
    sentences = " ".join(f"Sentence number {n} explains one more detail of the feature." for n in range(60))
    unbroken = "x" * (MAX_CHUNK_CHARS * 2 + 10)
    chunks = chunk_article(_article(f"{sentences}\n\n{unbroken}"))

    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert "Sentence number 0 explains" in joined and "Sentence number 59 explains" in joined
    assert sum(c.text.count("x") for c in chunks) >= len(unbroken)


def test_passage_text_adds_title_and_section_and_drops_markup() -> None:
    chunk = chunk_article(_article("## Share\nSee **[the guide](https://example.test/g)** and `share`."))[0]

    assert passage_text(chunk) == "Use boards — Share: See the guide and share."


def test_content_hash_is_stable_order_free_and_content_sensitive() -> None:
    first, second = _article("One."), replace(_article("Two."), id="features/other")

    digest = content_hash([first, second])

    assert len(digest) == 64
    assert content_hash([second, first]) == digest
    assert content_hash([first, replace(second, body="Two!")]) != digest
    assert content_hash([first, replace(second, url="/docs/features/other")]) != digest
    assert content_hash([first]) != digest


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Set up SSO", "set-up-sso"),
        ("Dependencies and recurring tasks (Starter and above)", "dependencies-and-recurring-tasks-starter-and-above"),
        ("Change someone's role", "change-someones-role"),
        ("Change someone’s role", "change-someones-role"),
        ("No recovery codes? Ask an Admin", "no-recovery-codes-ask-an-admin"),
        ("Time zone, language and date format", "time-zone-language-and-date-format"),
        ("The **14-day** recovery window", "the-14-day-recovery-window"),
        ("See [the guide](https://example.test/g)", "see-the-guide"),
        ("snake_case and C#", "snake-case-and-c"),
        ("Résumé import", "résumé-import"),
        ("???", "section"),
    ],
)
def test_section_anchor_is_a_lower_case_hyphenated_slug(heading: str, anchor: str) -> None:
    assert section_anchor(heading) == anchor


def test_repeated_headings_get_numbered_anchors() -> None:
    assert unique_anchors(["Limits", "Setup", "Limits", "limits!"]) == ["limits", "setup", "limits-2", "limits-3"]
    assert unique_anchors(["A", "A 2", "A"]) == ["a", "a-2", "a-3"]


def test_chunks_carry_their_section_anchor_and_url() -> None:
    body = "Intro.\n\n## Set up SSO\nSteps.\n\n## Empty\n\n## Set up SSO\nAgain."
    chunks = chunk_article(_article(body))

    assert [(c.section, c.anchor) for c in chunks] == [
        ("Use boards", ""),
        ("Set up SSO", "set-up-sso"),
        ("Set up SSO", "set-up-sso-2"),  # numbered over every heading, as the help page does
    ]
    assert [c.section_url for c in chunks] == [
        "/help/features/boards",
        "/help/features/boards#set-up-sso",
        "/help/features/boards#set-up-sso-2",
    ]
    assert section_url("/help/a/b", "") == "/help/a/b"


def test_every_part_of_a_long_section_links_to_that_section() -> None:
    body = "## Long one\n" + "\n\n".join(f"Paragraph number {n} has some words in it." for n in range(80))
    chunks = chunk_article(_article(body))

    assert len(chunks) > 1
    assert {c.anchor for c in chunks} == {"long-one"}


def test_indented_section_headings_are_sections_as_on_the_help_page() -> None:
    chunks = chunk_article(_article("Lead.\n\n   ## Indented\nText."))

    assert [(c.section, c.anchor) for c in chunks][1] == ("Indented", "indented")


def test_sentence_rows_hold_one_sentence_or_list_item_each() -> None:
    body = "## Invite\n1. Open **Settings > Members**. Click [Invite](https://x.test).\n- Up to 50 addresses\n- Ok"
    [chunk] = chunk_article(_article(body))

    rows = sentence_rows(chunk)

    assert [row.sentence for row in rows] == [
        "Open Settings > Members.",  # the step number ("1.") and "Ok" are too short to point anywhere
        "Click Invite.",
        "Up to 50 addresses",
    ]
    assert [row.id for row in rows] == [f"{chunk.id}.0", f"{chunk.id}.1", f"{chunk.id}.2"]
    assert all((row.text, row.anchor, row.section) == (chunk.text, chunk.anchor, chunk.section) for row in rows)
    assert {parent_id(row) for row in rows} == {parent_id(chunk)} == {chunk.id}
    assert passage_text(rows[1]) == "Use boards — Invite: Click Invite."


def test_a_table_row_is_read_with_its_column_headings() -> None:
    body = (
        "## Prices\n| Plan | Monthly | Annual |\n| --- | :---: | --- |\n"
        "| **Growth** | $24 per seat | $19.20 per seat |\n| Enterprise | Custom quote | |\nPrices exclude VAT."
    )
    [chunk] = chunk_article(_article(body))

    assert [row.sentence for row in sentence_rows(chunk)] == [
        "Growth: Monthly $24 per seat; Annual $19.20 per seat",  # the header and the rule are not rows of their own
        "Enterprise: Monthly Custom quote",  # an empty cell says nothing
        "Prices exclude VAT.",
    ]


SEATS = """Paid plans are billed per seat.

## Add seats
Click Add seats in Settings > Billing > Seats.

## Empty

## Remove seats
Click Remove seats.
"""


def _write(tmp_path: Path, front: str, body: str = SEATS) -> Path:
    path = tmp_path / "billing" / "seats.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"---\ntitle: Seats\n{front}---\n{body}", encoding="utf-8")
    return path


def test_questions_in_front_matter_are_read_per_section(tmp_path: Path) -> None:
    _write(tmp_path, "questions:\n  Remove seats:\n    - lower my licence count\n  lead: [what is a seat]\n")

    [article] = load_articles(tmp_path)

    assert article.questions == (("Remove seats", ("lower my licence count",)), ("lead", ("what is a seat",)))
    assert "questions" not in article.body and "licence" not in article.body  # never shown on the help page


@pytest.mark.parametrize(
    ("front", "complaint"),
    [
        ("questions:\n  Remove seat:\n    - lower my licence count\n", "does not have: 'Remove seat'"),
        ("questions:\n  Empty:\n    - anything\n", "does not have: 'Empty'"),  # no text, so no chunk to answer
        ("questions:\n  - lower my licence count\n", "must map a section heading"),
        ("questions:\n  Add seats: []\n", "must be a list of questions"),
    ],
)
def test_questions_for_a_missing_section_name_the_file_and_the_heading(
    tmp_path: Path, front: str, complaint: str
) -> None:
    path = _write(tmp_path, front)

    with pytest.raises(ArticleError) as raised:
        load_articles(tmp_path)

    assert str(raised.value).startswith(f"{path}: ")
    assert complaint in str(raised.value)


def test_lead_questions_need_a_lead(tmp_path: Path) -> None:
    _write(tmp_path, "questions:\n  lead: [what is a seat]\n", body="## Add seats\nClick Add seats.\n")

    with pytest.raises(ArticleError, match="no summary or introduction"):
        load_articles(tmp_path)


def test_question_rows_belong_to_their_sections_first_chunk() -> None:
    long_section = "\n\n".join(f"Paragraph {n} about removing seats and renewals." for n in range(60))
    article = replace(
        _article(f"Intro.\n\n## Add seats\nClick Add.\n\n## Remove seats\n{long_section}"),
        questions=(("Remove seats", ("lower my licence count", "refund unused seats")), ("lead", ("what is a seat",))),
    )
    chunks = chunk_article(article)
    removing = [chunk for chunk in chunks if chunk.section == "Remove seats"]

    rows = question_rows(article, chunks)

    assert len(removing) > 1  # a long section: its questions go to its first part, whose link is the section's
    assert [(row.id, row.sentence, row.question) for row in rows] == [
        (f"{removing[0].id}.q0", "lower my licence count", True),
        (f"{removing[0].id}.q1", "refund unused seats", True),
        (f"{chunks[0].id}.q0", "what is a seat", True),
    ]
    assert [parent_id(row) for row in rows] == [removing[0].id, removing[0].id, chunks[0].id]
    assert rows[0].anchor == "remove-seats" and rows[2].anchor == ""
    # Embedded like a sentence row: under the title and heading.
    assert passage_text(rows[0]) == "Use boards — Remove seats: lower my licence count"
    assert not any(row.question for chunk in chunks for row in [chunk, *sentence_rows(chunk)])


def test_questions_change_the_content_hash_but_not_the_chunks() -> None:
    article = _article("Intro.\n\n## Add seats\nClick Add.")
    asked = replace(article, questions=(("Add seats", ("buy more licences",)),))

    assert chunk_article(asked) == chunk_article(article)
    assert content_hash([asked]) != content_hash([article])
