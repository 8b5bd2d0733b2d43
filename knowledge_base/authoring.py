"""Authoring help-centre articles from the console: list, read, create or update, retire and restore.

Articles stay Markdown files with front matter under `<content>/<category>/<slug>.md`, so the repository, the CLI
and the console edit the same thing. A save is validated exactly as `load_articles` validates (it calls the same
`article_from`), and written atomically (a temporary file in the same folder, fsynced, then `os.replace`), so a
reader sees the old article or the new one, never half of one. Retiring sets `retired: true` in the front matter:
the file stays (and can be restored) but the index and the help centre skip it.
"""

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .documents import ArticleError, article_from, read_front_matter
from .questions import LEAD

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80
MAX_TITLE = 200
MAX_SUMMARY = 500
MAX_BODY = 100_000
# The order front-matter keys are written in; keys the console does not edit (questions ...) are kept as they were.
_KEY_ORDER = ("title", "summary", "questions", "retired")


class AuthoringError(ValueError):
    """A draft that cannot be saved; `field` names the form field at fault ("title", "slug", "body" ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ArticleInfo:
    """One article as the console lists it; `version` (inode and mtime) spots concurrent edits."""

    category: str
    slug: str
    title: str
    summary: str
    updated: datetime
    retired: bool
    version: str

    @property
    def id(self) -> str:
        return f"{self.category}/{self.slug}"


@dataclass(frozen=True)
class Draft:
    """The editable fields of an article, as the form sends them."""

    category: str
    slug: str
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class EditableArticle:
    info: ArticleInfo
    draft: Draft


class ArticleStore:
    """The articles in `content_dir`, retired ones included, for the console."""

    def __init__(self, content_dir: Path, base_url: str = "/help") -> None:
        self.content_dir = Path(content_dir)
        self.base_url = base_url.rstrip("/")

    def categories(self) -> list[str]:
        """The known categories: the content folder's sub-folders (new categories are made in the repository)."""
        if not self.content_dir.is_dir():
            return []
        return sorted(p.name for p in self.content_dir.iterdir() if p.is_dir() and SLUG.match(p.name))

    def list(self, query: str = "") -> list[ArticleInfo]:
        """Every article, by category then title; `query` keeps those whose title, summary, id or body contain it.

        A file that cannot be read as an article is listed under its file name, so it can be found and fixed.
        """
        needle = " ".join(query.split()).casefold()
        found = []
        for category in self.categories():
            for path in sorted((self.content_dir / category).glob("*.md")):
                try:
                    meta, body = read_front_matter(path)
                except ArticleError:
                    meta, body = {"title": path.stem}, ""
                info = _info(path, meta)
                haystack = f"{info.id} {info.title} {info.summary} {body}".casefold()
                if not needle or needle in haystack:
                    found.append(info)
        return sorted(found, key=lambda a: (a.category, a.title.casefold()))

    def get(self, category: str, slug: str) -> EditableArticle | None:
        """The article to edit, or None if there is none.

        Raises:
            AuthoringError: the file is not a readable article (no or broken front matter).
        """
        path = self._path(category, slug)
        if path is None or not path.is_file():
            return None
        meta, body = _read(path)
        info = _info(path, meta)
        return EditableArticle(info, Draft(category, slug, info.title, info.summary, body))

    def create(self, draft: Draft, questions: Sequence[str] = ()) -> ArticleInfo:
        """Write a new article; `questions` (customers' phrasings it answers) go under `questions: lead:`.

        Raises:
            AuthoringError: a field is invalid, the article fails validation, or the slug is taken in its category.
        """
        draft = _cleaned(draft)
        path = self._checked_path(draft)
        if path.exists():
            raise AuthoringError("slug", f"An article {draft.category}/{draft.slug} already exists: pick another slug.")
        asked = [" ".join(q.split()) for q in questions if q.strip()]
        return self._write(path, {"questions": {LEAD: asked}} if asked else {}, draft)

    def update(self, draft: Draft, version: str = "") -> ArticleInfo:
        """Save an existing article's title, summary and body; its other front matter (questions) is kept.

        Args:
            version: the `ArticleInfo.version` the editor started from; if the file changed since, the save is
                refused rather than overwriting someone else's edit. Empty skips the check.

        Raises:
            AuthoringError: invalid fields, failed validation, a missing article or a concurrent edit.
        """
        draft = _cleaned(draft)
        path = self._checked_path(draft)
        if not path.is_file():
            raise AuthoringError("slug", f"There is no article {draft.category}/{draft.slug}.")
        if version and version != _version(path):
            raise AuthoringError(
                "body", "Someone saved this article after you opened it. Copy your text, reload, and edit again."
            )
        meta, _ = _read(path)
        return self._write(path, meta, draft)

    def set_retired(self, category: str, slug: str, retired: bool) -> ArticleInfo | None:
        """Retire an article (kept on disk, left out of the index and the help centre) or restore it.

        Raises:
            AuthoringError: the file is not a readable article.
        """
        path = self._path(category, slug)
        if path is None or not path.is_file():
            return None
        meta, body = _read(path)
        if retired:
            meta["retired"] = True
        else:
            meta.pop("retired", None)
        _atomic_write(path, _file_text(meta, body))
        return _info(path, meta)

    def _path(self, category: str, slug: str) -> Path | None:
        if category not in self.categories() or not SLUG.match(slug) or len(slug) > MAX_SLUG:
            return None
        return self.content_dir / category / f"{slug}.md"

    def _checked_path(self, draft: Draft) -> Path:
        if draft.category not in self.categories():
            raise AuthoringError("category", "Category: choose one of the existing categories.")
        if not draft.slug:
            raise AuthoringError("slug", "Slug: enter one (lower-case words joined by hyphens, e.g. reset-password).")
        if len(draft.slug) > MAX_SLUG or not SLUG.match(draft.slug):
            raise AuthoringError(
                "slug", f"Slug: use lower-case letters, digits and single hyphens, at most {MAX_SLUG} characters."
            )
        return self.content_dir / draft.category / f"{draft.slug}.md"

    def _write(self, path: Path, meta: dict[str, Any], draft: Draft) -> ArticleInfo:
        meta = {**meta, "title": draft.title, "summary": draft.summary}
        if not draft.summary:
            meta.pop("summary")
        try:
            # The same checks the index makes, so a saved article always loads (questions must name its sections).
            article_from(path, meta, draft.body, self.base_url)
        except ArticleError as error:
            message = str(error).removeprefix(f"{path}: ")
            field = "title" if "title" in message else "summary" if "summary" in message else "body"
            raise AuthoringError(field, message[:1].upper() + message[1:] + ".") from error
        _atomic_write(path, _file_text(meta, draft.body))
        return _info(path, meta)


def _read(path: Path) -> tuple[dict[str, Any], str]:
    """The file's front matter and body; a file that is not a readable article is an error to show, not a crash."""
    try:
        return read_front_matter(path)
    except ArticleError as error:
        raise AuthoringError(
            "file", f"This file cannot be read as an article; fix it in the repository: {error}"
        ) from error


def _cleaned(draft: Draft) -> Draft:
    """The draft with single-line fields trimmed and line endings normalised; refuses empty or oversized fields."""
    title = " ".join(draft.title.split())
    summary = " ".join(draft.summary.split())
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not title:
        raise AuthoringError("title", "Title: enter one.")
    if len(title) > MAX_TITLE:
        raise AuthoringError("title", f"Title: at most {MAX_TITLE} characters.")
    if len(summary) > MAX_SUMMARY:
        raise AuthoringError("summary", f"Summary: at most {MAX_SUMMARY} characters.")
    if not body:
        raise AuthoringError("body", "Body: write the article (Markdown, with ## headings for its sections).")
    if len(body) > MAX_BODY:
        raise AuthoringError("body", f"Body: at most {MAX_BODY:,} characters.")
    if body.startswith("---"):
        raise AuthoringError("body", "Body: must not start with '---' (that would read as front matter).")
    return Draft(draft.category.strip(), draft.slug.strip(), title, summary, body)


def _file_text(meta: dict[str, Any], body: str) -> str:
    ordered = {key: meta[key] for key in _KEY_ORDER if key in meta}
    ordered.update({key: value for key, value in meta.items() if key not in ordered})
    front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{body}\n"


def _atomic_write(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _info(path: Path, meta: dict[str, Any]) -> ArticleInfo:
    stat = path.stat()
    title = meta.get("title")
    summary = meta.get("summary")
    return ArticleInfo(
        category=path.parent.name,
        slug=path.stem,
        title=" ".join(title.split()) if isinstance(title, str) and title.strip() else path.stem,
        summary=" ".join(summary.split()) if isinstance(summary, str) else "",
        updated=datetime.fromtimestamp(stat.st_mtime, UTC),
        retired=meta.get("retired") is True,
        version=_version(path, stat),
    )


def _version(path: Path, stat: os.stat_result | None = None) -> str:
    # Every save is a new file (os.replace), so the inode changes even when the clock is too coarse to.
    stat = stat or path.stat()
    return f"{stat.st_ino}-{stat.st_mtime_ns}"
