"""The help centre: knowledge-base articles rendered as sanitised HTML for the source links the bot gives."""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nh3
from markdown_it import MarkdownIt

from knowledge_base.documents import Article, ArticleError, load_articles, unique_anchors

logger = logging.getLogger(__name__)

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
    """Articles from the content directory, looked up by category and slug.

    Articles edited or retired in the console show here without a restart: at most every `recheck_s` seconds the
    files' inodes, modification times and sizes are compared with those loaded, and the articles are read again when
    they differ (if the new set fails to load, the old one keeps being served).
    """

    def __init__(self, content_dir: Path, base_url: str, recheck_s: float = 2.0) -> None:
        self._content_dir = Path(content_dir)
        self._base_url = base_url
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._fingerprint = self._files()
        self._checked_at = time.monotonic()
        self._loaded: dict[str, Article] = {a.id: a for a in load_articles(content_dir, base_url=base_url)}

    def refresh(self) -> None:
        """Check the files now (after a console edit, so the editor's next look at the help page shows it)."""
        self._checked_at = float("-inf")
        _ = self._articles

    @property
    def _articles(self) -> dict[str, Article]:
        now = time.monotonic()
        if now - self._checked_at >= self._recheck_s and self._lock.acquire(blocking=False):
            try:
                self._checked_at = now
                fingerprint = self._files()
                if fingerprint != self._fingerprint:
                    self._loaded = {a.id: a for a in load_articles(self._content_dir, base_url=self._base_url)}
                    self._fingerprint = fingerprint
            except (OSError, ArticleError) as error:
                logger.warning("Keeping the loaded help centre: %s", error)
            finally:
                self._lock.release()
        return self._loaded

    def _files(self) -> tuple[tuple[str, int, int, int], ...]:
        # The inode changes with every console save (written to a new file, then renamed over the old one).
        stats = [(str(p), p.stat()) for p in sorted(self._content_dir.glob("*/*.md"))]
        return tuple((name, s.st_ino, s.st_mtime_ns, s.st_size) for name, s in stats)

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
