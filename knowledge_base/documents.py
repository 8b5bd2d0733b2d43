"""Help-centre articles: loading Markdown files with YAML front matter and cutting them into searchable chunks."""

import hashlib
import json
import re
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

# Part of the content hash: bump it whenever chunking or passage text changes, so stored indexes get rebuilt.
CHUNKING_VERSION = 1
MAX_CHUNK_CHARS = 1200

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# A closing run of #s needs a space before it (CommonMark), so "## C#" keeps its "#".
_SECTION_HEADING = re.compile(r"^##[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")


class ArticleError(ValueError):
    """An article file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Article:
    """One help-centre article. `id` is "<category>/<slug>"; `body` is the Markdown after the front matter."""

    id: str
    title: str
    summary: str
    category: str
    url: str
    body: str


@dataclass(frozen=True)
class Chunk:
    """A piece of an article small enough to embed: its lead, one `##` section, or part of a long section."""

    id: str
    article_id: str
    title: str
    section: str
    url: str
    text: str


def load_articles(content_dir: Path, base_url: str = "/help") -> list[Article]:
    """Read every `<category>/<slug>.md` file under `content_dir`, sorted by id.

    Files directly in `content_dir` (a README, say) and deeper folders are not articles and are ignored.

    Args:
        content_dir: the folder holding one sub-folder per category.
        base_url: prefix of article URLs; an article's URL is `{base_url}/{category}/{slug}`.

    Returns:
        The articles, sorted by id.

    Raises:
        FileNotFoundError: `content_dir` does not exist.
        ArticleError: a file has no or malformed front matter, no title, or no body.
    """
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        raise FileNotFoundError(f"knowledge-base content directory not found: {content_dir}")
    prefix = base_url.rstrip("/")
    return [_load_article(path, prefix) for path in sorted(content_dir.glob("*/*.md")) if path.is_file()]


def _load_article(path: Path, url_prefix: str) -> Article:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ArticleError(f"{path}: not valid UTF-8 ({error})") from error
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ArticleError(f"{path}: missing front matter (the file must start with a '---' block holding a title)")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise ArticleError(f"{path}: front matter is not valid YAML: {error}") from error
    if not isinstance(meta, dict):
        raise ArticleError(f"{path}: front matter must be a mapping with at least a 'title'")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(f"{path}: front matter has no 'title'")
    summary = meta.get("summary", "")
    if summary is None:
        summary = ""
    if not isinstance(summary, str):
        raise ArticleError(f"{path}: 'summary' must be text")
    body = text[match.end() :].strip()
    if not body:
        raise ArticleError(f"{path}: article has no body")
    category, slug = path.parent.name, path.stem
    return Article(
        id=f"{category}/{slug}",
        title=" ".join(title.split()),
        summary=" ".join(summary.split()),
        category=category,
        url=f"{url_prefix}/{category}/{slug}",
        body=body,
    )


def chunk_article(article: Article, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Cut an article into chunks: the lead (summary and intro, section = title), then one per `##` section.

    Deeper headings stay inside their `##` section; headings inside fenced code blocks are not headings.
    Sections longer than `max_chars` are split between paragraphs (or sentences, if a paragraph is too long).
    Sections without text are skipped.

    Returns:
        Chunks in reading order, with ids "<article id>#<n>".
    """
    lead, sections = _split_sections(article.body)
    if article.summary and article.summary not in lead:
        lead = f"{article.summary}\n\n{lead}".strip()
    pieces: list[tuple[str, str]] = []
    for heading, text in [(article.title, lead), *sections]:
        pieces.extend((heading, part) for part in _split_long(text, max_chars))
    return [
        Chunk(
            id=f"{article.id}#{n}",
            article_id=article.id,
            title=article.title,
            section=heading,
            url=article.url,
            text=text,
        )
        for n, (heading, text) in enumerate(pieces)
    ]


def passage_text(chunk: Chunk) -> str:
    """The text embedded for a chunk: title and section give a short section its context.

    Link targets and emphasis markers are dropped: they are noise to the embedding model.
    """
    plain = _EMPHASIS.sub("", _MARKDOWN_LINK.sub(r"\1", chunk.text))
    return f"{chunk.title} — {chunk.section}: {plain}"


def content_hash(articles: list[Article]) -> str:
    """A sha256 over everything an index is built from: the articles (in any order) and the chunking version."""
    payload = {
        "chunking_version": CHUNKING_VERSION,
        "max_chunk_chars": MAX_CHUNK_CHARS,
        "articles": [asdict(a) for a in sorted(articles, key=lambda a: a.id)],
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _split_sections(body: str) -> tuple[str, list[tuple[str, str]]]:
    """Split a Markdown body at `##` headings outside code fences into (lead text, [(heading, text)])."""
    lead: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    current = lead
    fence: str | None = None
    for line in body.split("\n"):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            fence = marker if fence is None else (None if marker == fence else fence)
        elif fence is None and (heading := _SECTION_HEADING.match(line)):
            current = []
            sections.append((heading.group(1).strip(), current))
            continue
        current.append(line)
    return "\n".join(lead).strip(), [(heading, "\n".join(lines).strip()) for heading, lines in sections]


def _split_long(text: str, max_chars: int) -> list[str]:
    """Pack paragraphs into parts of at most `max_chars`; an oversized paragraph is split by sentences, then words."""
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    # (paragraph number, text): pieces of one paragraph are re-joined with a space, paragraphs with a blank line.
    units: list[tuple[int, str]] = []
    for number, paragraph in enumerate(_paragraphs(text)):
        if len(paragraph) <= max_chars:
            units.append((number, paragraph))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            if len(sentence) <= max_chars:
                units.append((number, sentence))
            else:
                wrapped = textwrap.wrap(sentence, max_chars, break_long_words=True, break_on_hyphens=False)
                units.extend((number, line) for line in wrapped)
    parts: list[str] = []
    current, current_paragraph = "", -1
    for number, unit in units:
        joiner = " " if number == current_paragraph else "\n\n"
        candidate = f"{current}{joiner}{unit}" if current else unit
        if len(candidate) <= max_chars:
            current = candidate
        else:
            parts.append(current)
            current = unit
        current_paragraph = number
    if current:
        parts.append(current)
    return parts


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, keeping a fenced code block whole even if it holds blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            fence = marker if fence is None else (None if marker == fence else fence)
        if not line.strip() and fence is None:
            if current:
                blocks.append("\n".join(current).strip())
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current).strip())
    return [block for block in blocks if block]
