"""api/services/articles.py: help pages whose section headings carry the anchors the bot links to."""

import os
import re
from pathlib import Path

import pytest

from api.services.articles import HelpCentre, render_markdown
from knowledge_base.documents import chunk_article, load_articles

CONTENT_DIR = Path(__file__).resolve().parents[3] / "knowledge_base" / "content"
_H2_ID = re.compile(r'<h2 id="([^"]+)">')


def test_section_headings_get_the_anchor_of_their_text() -> None:
    html = render_markdown("Intro.\n\n## Change someone's role\nText.\n\n## Custom roles (Enterprise)\nMore.")

    assert '<h2 id="change-someones-role">Change someone\'s role</h2>' in html
    assert '<h2 id="custom-roles-enterprise">Custom roles (Enterprise)</h2>' in html


def test_repeated_headings_are_numbered_and_only_sections_get_anchors() -> None:
    html = render_markdown(
        "## Limits\nA.\n\n## Limits ##\nB.\n\n> ## Quoted\n\n```\n## In code\n```\n\nSetext\n------\n\n### Deeper\n"
    )

    assert _H2_ID.findall(html) == ["limits", "limits-2"]
    assert "<h2>Quoted</h2>" in html and "<h2>Setext</h2>" in html and "<h3>Deeper</h3>" in html


def test_anchors_survive_sanitising_but_nothing_else_does() -> None:
    html = render_markdown('## Bad <img src=x onerror="alert(1)"> **idea**\nText.')

    assert html.startswith('<h2 id="bad-img-src-x-onerror-alert-1-idea">Bad &lt;img')  # the only attribute: id
    assert "<img" not in html


def test_every_indexed_section_of_every_shipped_article_has_its_anchor_on_the_help_page() -> None:
    help_centre = HelpCentre(CONTENT_DIR, base_url="/help")
    articles = load_articles(CONTENT_DIR, base_url="/help")
    assert articles

    for article in articles:
        page = help_centre.get(article.category, article.id.split("/", 1)[1])
        assert page is not None
        ids = _H2_ID.findall(page.html)
        for chunk in chunk_article(article):
            if chunk.anchor:
                assert chunk.anchor in ids, f"{chunk.section_url}: no heading with id {chunk.anchor!r} on the page"
                assert ids.count(chunk.anchor) == 1
            assert chunk.section_url.startswith(f"{article.url}")


@pytest.mark.parametrize(
    "body",
    [
        "Lead.\n\n## One\nA.\n\n## One\nB.\n\n## Two\n",
        "## C# tips\nA.\n\n  ## Indented\nB.\n\n## Trailing hashes ###\nC.",
        "Lead.\n\n```\n## not a heading\n```\n\n## Ünïcode – dash\nD.",
    ],
)
def test_index_and_page_agree_on_anchors_for_awkward_headings(tmp_path: Path, body: str) -> None:
    path = tmp_path / "faq" / "awkward.md"
    path.parent.mkdir()
    path.write_text(f"---\ntitle: Awkward\n---\n{body}\n", encoding="utf-8")
    [article] = load_articles(tmp_path)

    page = HelpCentre(tmp_path, base_url="/help").get("faq", "awkward")

    assert page is not None
    indexed = [chunk.anchor for chunk in chunk_article(article) if chunk.anchor]
    assert set(indexed) <= set(_H2_ID.findall(page.html))


def test_the_help_centre_follows_edits_and_retirements(tmp_path: Path) -> None:
    (tmp_path / "faq").mkdir()
    article = tmp_path / "faq" / "hours.md"
    article.write_text("---\ntitle: Opening hours\n---\nWe answer 9 to 5.\n", encoding="utf-8")
    help_centre = HelpCentre(tmp_path, base_url="/help", recheck_s=3600)
    assert help_centre.get("faq", "hours").title == "Opening hours"

    article.write_text("---\ntitle: Support hours\n---\nWe answer 9 to 5.\n", encoding="utf-8")
    os.utime(article, ns=(1, 1))  # a distinct mtime even on a coarse clock
    assert help_centre.get("faq", "hours").title == "Opening hours"  # not rechecked before the interval
    help_centre.refresh()
    assert help_centre.get("faq", "hours").title == "Support hours"

    article.write_text("---\ntitle: Support hours\nretired: true\n---\nWe answer 9 to 5.\n", encoding="utf-8")
    help_centre.refresh()
    assert help_centre.get("faq", "hours") is None and help_centre.by_category() == {}
