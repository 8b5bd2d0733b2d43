"""Help-centre articles: loading Markdown files with YAML front matter and cutting them into searchable chunks."""

import hashlib
import json
import re
import textwrap
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .questions import LEAD, SectionQuestions, parse_questions

# Part of the content hash: bump it whenever chunking or passage text changes, so stored indexes get rebuilt.
CHUNKING_VERSION = 4  # 2: section anchors, sentence rows; 3: question rows; 4: table rows with their headings
MAX_CHUNK_CHARS = 1200
# Sentence rows shorter than this ("Confirm.", a table rule) say too little to point at a section.
MIN_SENTENCE_CHARS = 12

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
# A closing run of #s needs a space before it (CommonMark), so "## C#" keeps its "#"; up to three spaces of indent
# are allowed, as CommonMark (and so the help page) allows them.
_SECTION_HEADING = re.compile(r"^ {0,3}##[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
# Anchors: apostrophes vanish ("someone's" -> "someones"), every other run of non-word characters becomes one hyphen.
_APOSTROPHES = re.compile(r"['’]")
_NON_WORD = re.compile(r"[\W_]+")


class ArticleError(ValueError):
    """An article file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Article:
    """One help-centre article. `id` is "<category>/<slug>"; `body` is the Markdown after the front matter.

    `questions` pairs a section (its `##` heading, or "lead") with questions customers ask that it answers
    (`questions.parse_questions`).
    """

    id: str
    title: str
    summary: str
    category: str
    url: str
    body: str
    questions: SectionQuestions = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of an article small enough to embed: its lead, one `##` section, or part of a long section.

    `section` is the `##` heading (the article title for the lead); `anchor` is the id of that heading on the help
    page ("" for the lead, which has no heading of its own). A sentence row (see `sentence_rows`) is a copy of its
    chunk that embeds only `sentence`, one sentence or list item of `text`; a question row (`question_rows`) embeds
    in `sentence` a question the author says the section answers, and has `question` set.
    """

    id: str
    article_id: str
    title: str
    section: str
    url: str
    text: str
    anchor: str = ""
    sentence: str = ""
    question: bool = False

    @property
    def section_url(self) -> str:
        """The help-page URL of the chunk's section: the article URL with the heading's anchor."""
        return section_url(self.url, self.anchor)


def load_articles(content_dir: Path, base_url: str = "/help") -> list[Article]:
    """Read every `<category>/<slug>.md` file under `content_dir`, sorted by id.

    Files directly in `content_dir` (a README, say) and deeper folders are not articles and are ignored, and so
    are articles retired from the console (`retired: true` in the front matter): kept on disk, never indexed or shown.

    Args:
        content_dir: the folder holding one sub-folder per category.
        base_url: prefix of article URLs; an article's URL is `{base_url}/{category}/{slug}`.

    Returns:
        The articles, sorted by id.

    Raises:
        FileNotFoundError: `content_dir` does not exist.
        ArticleError: a file has no or malformed front matter, no title, no body, or `questions` naming a section
            it does not have.
    """
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        raise FileNotFoundError(f"knowledge-base content directory not found: {content_dir}")
    prefix = base_url.rstrip("/")
    articles = []
    for path in sorted(content_dir.glob("*/*.md")):
        if path.is_file():
            meta, body = read_front_matter(path)
            if meta.get("retired") is not True:
                articles.append(article_from(path, meta, body, prefix))
    return articles


def read_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    """An article file's front matter (a mapping) and its Markdown body, stripped.

    Raises:
        ArticleError: not UTF-8, or no or malformed front matter.
    """
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
    return meta, text[match.end() :].strip()


def article_from(path: Path, meta: dict[str, Any], body: str, url_prefix: str) -> Article:
    """The article in `path` from its front matter and body, validated as `load_articles` validates it.

    Raises:
        ArticleError: no title, a summary that is not text, no body, or `questions` naming a missing section.
    """
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(f"{path}: front matter has no 'title'")
    summary = meta.get("summary", "")
    if summary is None:
        summary = ""
    if not isinstance(summary, str):
        raise ArticleError(f"{path}: 'summary' must be text")
    if not body:
        raise ArticleError(f"{path}: article has no body")
    lead, sections = _split_sections(body)
    try:
        questions = parse_questions(
            meta.get("questions"), [heading for heading, text in sections if text], bool(lead or summary.strip())
        )
    except ValueError as error:
        raise ArticleError(f"{path}: {error}") from error
    category, slug = path.parent.name, path.stem
    return Article(
        id=f"{category}/{slug}",
        title=" ".join(title.split()),
        summary=" ".join(summary.split()),
        category=category,
        url=f"{url_prefix}/{category}/{slug}",
        body=body,
        questions=questions,
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
    # Anchors are numbered over every heading, empty sections included, exactly as the help page numbers them.
    anchors = ["", *unique_anchors([heading for heading, _ in sections])]
    pieces: list[tuple[str, str, str]] = []
    for (heading, text), anchor in zip([(article.title, lead), *sections], anchors, strict=True):
        pieces.extend((heading, anchor, part) for part in _split_long(text, max_chars))
    return [
        Chunk(
            id=f"{article.id}#{n}",
            article_id=article.id,
            title=article.title,
            section=heading,
            url=article.url,
            text=text,
            anchor=anchor,
        )
        for n, (heading, anchor, text) in enumerate(pieces)
    ]


def section_anchor(heading: str) -> str:
    """The `id` of a `##` heading on the help page, and the fragment of the links the bot gives to it.

    Lower-case words joined by hyphens, with Markdown links and emphasis reduced to their text:
    "Dependencies and recurring tasks (Starter and above)" -> "dependencies-and-recurring-tasks-starter-and-above".
    """
    text = _EMPHASIS.sub("", _MARKDOWN_LINK.sub(r"\1", heading))
    slug = _NON_WORD.sub("-", _APOSTROPHES.sub("", text.lower())).strip("-")
    return slug or "section"


def unique_anchors(headings: list[str]) -> list[str]:
    """The anchors of an article's `##` headings in reading order; a repeated one gets "-2", "-3" ... appended."""
    seen: set[str] = set()
    anchors = []
    for heading in headings:
        base = anchor = section_anchor(heading)
        number = 1
        while anchor in seen:
            number += 1
            anchor = f"{base}-{number}"
        seen.add(anchor)
        anchors.append(anchor)
    return anchors


def section_url(url: str, anchor: str) -> str:
    """An article URL pointing at one section (`anchor`), or at the top of the article when `anchor` is ""."""
    return f"{url}#{anchor}" if anchor else url


def sentence_rows(chunk: Chunk) -> list[Chunk]:
    """One row per sentence or list item of a chunk, each embedding that sentence under the title and heading.

    A whole section's vector is a blur of everything it says; a question usually matches one sentence of the right
    section closely, so sections are compared by their best sentence. Ids are "<chunk id>.<n>".
    """
    units = []
    for line in _table_rows(_plain(chunk.text).split("\n")):
        line = line.strip(" \t-*|>")
        units.extend(s for s in _SENTENCE_END.split(line) if len(s) >= MIN_SENTENCE_CHARS)
    return [replace(chunk, id=f"{chunk.id}.{n}", sentence=unit) for n, unit in enumerate(units)]


def _table_rows(lines: list[str]) -> list[str]:
    """The lines with each Markdown table row read out with its column headings ("Growth | $24 per seat" under
    "Plan | Monthly billing" -> "Growth: Monthly billing $24 per seat"): a bare row of cells says what a price is for
    only through the header, which its own row would not carry. The header and rule lines are dropped."""
    out: list[str] = []
    header: list[str] = []
    for line in lines:
        if not _TABLE_ROW.match(line):
            header = []
            out.append(line)
        elif _TABLE_RULE.match(line):
            continue
        elif not header:
            header = _cells(line)
        else:
            first, *rest = _cells(line)
            pairs = [f"{name} {cell}" for name, cell in zip(header[1:], rest, strict=False) if cell]
            out.append(f"{first}: {'; '.join(pairs)}" if pairs else first)
    return out


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def question_rows(article: Article, chunks: list[Chunk]) -> list[Chunk]:
    """One row per question the author wrote for a section, belonging to the section's first chunk.

    A question row ranks exactly like a sentence row, embedded under the title and heading as they are: the bare
    question, or a weight of its own, ranked sections worse (benchmarks/README.md). Ids are "<chunk id>.q<n>".
    """
    first: dict[str, Chunk] = {}
    for chunk in chunks:
        first.setdefault(chunk.section if chunk.anchor else LEAD, chunk)
    rows = []
    for section, questions in article.questions:
        chunk = first[section]
        rows.extend(
            replace(chunk, id=f"{chunk.id}.q{n}", sentence=question, question=True)
            for n, question in enumerate(questions)
        )
    return rows


def parent_id(row: Chunk) -> str:
    """The id of the chunk a row belongs to: a sentence or question row's chunk, or the chunk itself."""
    return row.id.rsplit(".", 1)[0] if row.sentence else row.id


def passage_text(chunk: Chunk) -> str:
    """The text embedded for a chunk (or for a sentence row, its sentence): title and section give it context.

    Link targets and emphasis markers are dropped: they are noise to the embedding model.
    """
    return f"{chunk.title} — {chunk.section}: {_plain(chunk.sentence or chunk.text)}"


def _plain(markdown: str) -> str:
    return _EMPHASIS.sub("", _MARKDOWN_LINK.sub(r"\1", markdown))


def content_hash(articles: list[Article]) -> str:
    """A sha256 over everything an index is built from: the articles (in any order) and the chunking version."""
    payload = {
        "chunking_version": CHUNKING_VERSION,
        "max_chunk_chars": MAX_CHUNK_CHARS,
        "min_sentence_chars": MIN_SENTENCE_CHARS,
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
