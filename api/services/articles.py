"""The help centre: knowledge-base articles rendered as sanitised HTML for the source links the bot gives."""

from dataclasses import dataclass
from pathlib import Path

import nh3
from markdown_it import MarkdownIt

from knowledge_base.documents import Article, load_articles, unique_anchors

# html=False: raw HTML in an article is shown as text; nh3 then keeps only the tags Markdown produces.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "a", "hr", "br",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "h2": {"id"}}


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to put in a page, with an `id` on every `##` section heading.

    The ids come from `knowledge_base.documents.unique_anchors`, the function that gives each indexed section its
    anchor, so the section links the bot sends land on the heading they name.
    """
    tokens = _markdown.parse(text)
    # Only top-level ATX `##` headings with text are sections for the chunker; setext, nested or empty h2s are not.
    openers = [
        n
        for n, token in enumerate(tokens)
        if token.type == "heading_open"
        and token.tag == "h2"
        and token.markup == "##"
        and token.level == 0
        and tokens[n + 1].content
    ]
    for n, anchor in zip(openers, unique_anchors([tokens[n + 1].content for n in openers]), strict=True):
        tokens[n].attrSet("id", anchor)
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)


@dataclass(frozen=True)
class ArticlePage:
    id: str
    category: str
    title: str
    summary: str
    url: str
    html: str


class HelpCentre:
    """Articles loaded once from the content directory, looked up by category and slug."""

    def __init__(self, content_dir: Path, base_url: str) -> None:
        self._articles: dict[str, Article] = {a.id: a for a in load_articles(content_dir, base_url=base_url)}

    def get(self, category: str, slug: str) -> ArticlePage | None:
        article = self._articles.get(f"{category}/{slug}")
        if article is None:
            return None
        return ArticlePage(
            article.id, article.category, article.title, article.summary, article.url, render_markdown(article.body)
        )

    def by_category(self) -> dict[str, list[Article]]:
        grouped: dict[str, list[Article]] = {}
        for article in sorted(self._articles.values(), key=lambda a: (a.category, a.title)):
            grouped.setdefault(article.category, []).append(article)
        return grouped
