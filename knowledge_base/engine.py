"""The knowledge-base facade: build (or reuse) the index over the help-centre articles, and search it."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .documents import (
    Article,
    ArticleError,
    Chunk,
    chunk_article,
    content_hash,
    load_articles,
    parent_id,
    passage_text,
    question_rows,
    sentence_rows,
)
from .embedder import Embedder, KnowsWords
from .encoding import Progress, encode_rows, previous_vectors
from .index import FaissIndex, VectorIndex
from .lexical import LexicalIndex
from .ranking import Layout, Weights
from .results import BuildReport, Passage, SearchResult
from .spelling import Speller
from .store import (
    MANIFEST_FILE,
    CorruptIndexError,
    IndexMismatchError,
    IndexNotFoundError,
    Manifest,
    StoredIndex,
    load_index,
    read_manifest,
    save_index,
)

logger = logging.getLogger(__name__)

# Queries are truncated before encoding: the model reads at most a few hundred tokens anyway, and tokenising a
# pasted megabyte would stall a worker.
MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class _Searchable:
    """A loaded index with what searching it needs, derived once from its rows: swapped in as one object."""

    stored: StoredIndex
    layout: Layout
    lexical: LexicalIndex
    speller: Speller


class KnowledgeBase:
    """Semantic search over the help-centre articles.

    `build` loads the stored index when it was built from the same content with the same model, and rebuilds it
    otherwise. `search` builds on first use if nobody called `build` or `ensure_ready`. Searches may run from
    several threads; a build swaps the loaded index in one assignment, so a search sees the old or the new one.
    """

    def __init__(
        self,
        embedder: Embedder,
        index_dir: Path,
        content_dir: Path,
        base_url: str = "/help",
        min_score: float = 0.40,
        top_k: int = 3,
        ambiguity_margin: float = 0.0,
        index_factory: Callable[[int], VectorIndex] = FaissIndex,
        weights: Weights | None = None,
        spelling: bool = True,
        questions: bool = True,
        reload_interval_s: float = 2.0,
    ) -> None:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        self.embedder = embedder
        self.index_dir = Path(index_dir)
        self.content_dir = Path(content_dir)
        self.base_url = base_url
        self.min_score = min_score
        self.top_k = top_k
        self.ambiguity_margin = ambiguity_margin
        # How articles and sections score (ranking.py) and whether queries are spell-corrected (spelling.py); kept
        # as attributes so benchmarks can measure each lever on one index.
        self.weights = weights or Weights()
        self.spelling = spelling
        # Whether the articles' `questions:` are indexed; off, the index is built as if no article had any.
        self.questions = questions
        self._index_factory = index_factory
        self._loaded: _Searchable | None = None
        self._build_lock = threading.Lock()
        # Another process (the console's reindex) may write a newer index: its manifest file is checked at most
        # this often, and a changed manifest is loaded (`_reload_if_newer`).
        self.reload_interval_s = reload_interval_s
        self._checked_at = 0.0
        self._manifest_stamp: tuple[int, int, int] | None = None

    @property
    def ready(self) -> bool:
        """True once an index is loaded and searches are answered without building."""
        return self._loaded is not None

    def build(self, force: bool = False, progress: bool = False, on_progress: Progress | None = None) -> BuildReport:
        """Load the stored index if it matches the content and model, otherwise (or with `force`) rebuild it.

        A rebuild is incremental: rows whose passage text is unchanged keep their vectors from the stored index (same
        model), so editing one article encodes only its rows; `force` encodes everything. The new index is saved
        atomically with the next generation number.

        Args:
            force: rebuild, encoding every row, even if the stored index is up to date.
            progress: show a progress bar while encoding passages.
            on_progress: called with (rows encoded so far, rows to encode) as encoding proceeds.

        Raises:
            FileNotFoundError: the content directory is missing.
            ArticleError: an article is malformed, or there are none.
        """
        with self._build_lock:
            return self._build(force, progress, on_progress)

    def load_stored(self) -> None:
        """Load the index on disk as it is, without checking it against the content (what the bot is answering from).

        Raises:
            IndexNotFoundError: nothing built yet. IndexMismatchError, CorruptIndexError: it cannot be used.
        """
        with self._build_lock:
            self._swap_in(load_index(self.index_dir, self.embedder.name, self.embedder.dimension))

    def ensure_ready(self) -> None:
        """Build or load the index unless one is loaded already; safe to call from several threads."""
        if self._loaded is None:
            with self._build_lock:
                if self._loaded is None:
                    self._build(force=False, progress=False)
        else:
            self._reload_if_newer()

    def _reload_if_newer(self) -> None:
        """Swap in the index on disk when its manifest changed since ours was loaded (checked every few seconds)."""
        now = time.monotonic()
        if now - self._checked_at < self.reload_interval_s:
            return
        self._checked_at = now
        stamp = self._stamp()
        loaded = self._loaded
        if stamp is None or stamp == self._manifest_stamp or loaded is None:
            return
        if not self._build_lock.acquire(blocking=False):
            return  # this process is building: it swaps its own index in
        try:
            stored = load_index(self.index_dir, self.embedder.name, self.embedder.dimension)
            if stored.manifest != loaded.stored.manifest:
                logger.info("Loading knowledge-base index generation %s", stored.manifest.generation)
                self._loaded = self._searchable(stored)
            self._manifest_stamp = stamp
        except (CorruptIndexError, IndexMismatchError, IndexNotFoundError) as error:
            logger.warning("Keeping the loaded knowledge-base index: %s", error)
        finally:
            self._build_lock.release()

    def encode_query(self, query: str) -> np.ndarray:
        """The query's vector, shape (1, dimension), to pass to several `search` calls for the same words.

        The query is spell-corrected against the help centre first (unless `spelling` is off), as `search` does.

        Raises:
            ValueError: empty or blank query.
        """
        loaded = self._ready()
        return self.embedder.encode_queries([self._corrected(loaded, _normalised(query))[:MAX_QUERY_CHARS]])

    def search(
        self, query: str, k: int | None = None, article_id: str | None = None, vector: np.ndarray | None = None
    ) -> SearchResult:
        """Find the articles that best answer `query`, at most `k` (default `top_k`), and in each the section.

        Articles rank by their best section, which scores its best sentence's cosine plus a weighted BM25 score of
        its words; the lead answers only by a margin (`ranking.Layout.rank`). Misspelt words are corrected against
        the help centre's vocabulary first. With `article_id`, only that article is considered (the customer picked
        it). `vector` is the query's vector from `encode_query`, to spare encoding the same words again.

        Raises:
            ValueError: empty or blank query, or k < 1.
        """
        query = _normalised(query)
        k = self.top_k if k is None else k
        if k < 1:
            raise ValueError("k must be at least 1")
        loaded = self._ready()
        corrected = self._corrected(loaded, query)
        if vector is None:
            vector = self.embedder.encode_queries([corrected[:MAX_QUERY_CHARS]])
        if article_id is not None:
            passages = self._best_per_article(loaded, vector, corrected, len(loaded.layout), article_id)
            return SearchResult(query=query, passages=passages, confident=bool(passages))
        passages = self._best_per_article(loaded, vector, corrected, k)
        confident = bool(passages) and passages[0].score >= self.min_score
        ambiguous = (
            confident
            and len(passages) > 1
            and passages[1].score >= self.min_score
            and passages[0].score - passages[1].score < self.ambiguity_margin
        )
        return SearchResult(query=query, passages=passages, confident=confident, ambiguous=ambiguous)

    def _ready(self) -> _Searchable:
        self.ensure_ready()
        loaded = self._loaded
        if loaded is None:  # ensure_ready loads an index or raises; this keeps type checkers informed
            raise RuntimeError("knowledge base is not ready")
        return loaded

    def _corrected(self, loaded: _Searchable, query: str) -> str:
        return loaded.speller.correct(query) if self.spelling else query

    def _build(self, force: bool, progress: bool, on_progress: Progress | None = None) -> BuildReport:
        """`build` without the lock; the caller holds it."""
        started = time.perf_counter()
        articles = self._articles()
        if not articles:
            raise ArticleError(f"no articles in {self.content_dir} (expected <category>/<slug>.md files)")
        digest = content_hash(articles)
        reason = "forced" if force else self._stale_reason(digest)
        if not reason:
            try:
                stored = load_index(self.index_dir, self.embedder.name, self.embedder.dimension)
            except (CorruptIndexError, IndexMismatchError, IndexNotFoundError) as error:
                reason = str(error)
            else:
                # Another process may have rebuilt it between reading the manifest and loading.
                if stored.manifest.content_hash == digest:
                    self._swap_in(stored)
                    seconds = time.perf_counter() - started
                    chunks = sum(not row.sentence for row in stored.chunks)
                    manifest = stored.manifest
                    return BuildReport(False, manifest.article_count, chunks, seconds, generation=manifest.generation)
                reason = "content changed"
        logger.info("Building the knowledge-base index in %s: %s", self.index_dir, reason)
        chunked = [(article, chunk_article(article)) for article in articles]
        chunks = [chunk for _, article_chunks in chunked for chunk in article_chunks]
        questions = [row for article, article_chunks in chunked for row in question_rows(article, article_chunks)]
        rows = [*chunks, *(row for chunk in chunks for row in sentence_rows(chunk)), *questions]
        previous, generation = previous_vectors(self.index_dir, self.embedder)
        stored, encoded = self._encode(
            rows, len(articles), digest, progress, {} if force else previous, generation + 1, on_progress
        )
        save_index(self.index_dir, stored.manifest, stored.chunks, stored.index)
        self._swap_in(stored)
        seconds = time.perf_counter() - started
        reused = len(rows) - encoded
        return BuildReport(True, len(articles), len(chunks), seconds, reason, encoded, reused, generation + 1)

    def _swap_in(self, stored: StoredIndex) -> None:
        self._loaded = self._searchable(stored)
        self._manifest_stamp = self._stamp()
        self._checked_at = time.monotonic()

    def _stamp(self) -> tuple[int, int, int] | None:
        """The manifest file's inode, mtime and size: every save writes a new file, so a new inode at least."""
        try:
            stat = (self.index_dir / MANIFEST_FILE).stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def stats(self) -> dict[str, Any]:
        """What is loaded (or, before loading, what is on disk), without loading the model."""
        info: dict[str, Any] = {
            "ready": self.ready,
            "index_dir": str(self.index_dir),
            "content_dir": str(self.content_dir),
            "min_score": self.min_score,
            "top_k": self.top_k,
        }
        manifest: Manifest | None = self._loaded.stored.manifest if self._loaded else None
        if manifest is None:
            try:
                manifest = read_manifest(self.index_dir)
            except (IndexNotFoundError, CorruptIndexError) as error:
                info["index"] = str(error)
        if manifest is not None:
            info.update(
                model=manifest.model,
                dimension=manifest.dimension,
                articles=manifest.article_count,
                chunks=manifest.chunk_count,
                content_hash=manifest.content_hash,
                built_at=manifest.built_at,
                index_kind=manifest.index_kind,
                generation=manifest.generation,
                model_matches=manifest.model == self.embedder.name,
            )
            try:
                info["content_up_to_date"] = content_hash(self._articles()) == manifest.content_hash
            except (OSError, ArticleError) as error:
                info["content_up_to_date"] = False
                info["content_error"] = str(error)
        return info

    def _best_per_article(
        self, loaded: _Searchable, query_vector: np.ndarray, query: str, k: int, only: str | None = None
    ) -> list[Passage]:
        """The top `k` articles, each answered by its best section (`ranking.Layout.rank`); `only` keeps one article.

        Every row is scored (a help centre has a few thousand at most; one matrix product), so all sections of a
        chosen article compete, not only those that happened to rank high overall.
        """
        index = loaded.stored.index
        scores, ids = index.search(query_vector, index.size)
        row_scores = np.full(index.size, -np.inf, dtype=np.float32)
        found = ids[0] >= 0
        row_scores[ids[0][found]] = scores[0][found]
        lexical = loaded.lexical.scores(query) if self.weights.lexical else np.zeros(len(loaded.layout.chunks))
        passages = []
        for choice in loaded.layout.rank(row_scores, lexical, self.weights, k, only):
            c = loaded.layout.chunks[choice.chunk]
            passages.append(Passage(c.article_id, c.title, c.section, c.url, c.text, choice.score, c.anchor))
        return passages

    def _articles(self) -> list[Article]:
        """The articles, without their questions when `questions` is off (so the content hash differs too)."""
        articles = load_articles(self.content_dir, self.base_url)
        return articles if self.questions else [replace(article, questions=()) for article in articles]

    def _searchable(self, stored: StoredIndex) -> _Searchable:
        """The loaded index with its row layout, lexical index and speller, all from the stored rows.

        A chunk's lexical text includes its section's questions: the customers' words ("licenses", "android") the
        article may not use.
        """
        layout = Layout(stored.chunks)
        asked: dict[str, list[str]] = {}
        for row in stored.chunks:
            if row.question:
                asked.setdefault(parent_id(row), []).append(row.sentence)
        texts = [" ".join([passage_text(chunk), *asked.get(chunk.id, [])]) for chunk in layout.chunks]
        known = self.embedder.known_words() if isinstance(self.embedder, KnowsWords) else frozenset()
        return _Searchable(stored, layout, LexicalIndex(texts), Speller.from_texts(texts, known))

    def _stale_reason(self, digest: str) -> str:
        """Why the stored index cannot be reused, or "" if it can (as far as the manifest tells)."""
        try:
            manifest = read_manifest(self.index_dir)
        except (IndexNotFoundError, CorruptIndexError) as error:
            return str(error)
        if manifest.model != self.embedder.name:
            return f"model changed ({manifest.model} -> {self.embedder.name})"
        if manifest.content_hash != digest:
            return "content changed"
        return ""

    def _encode(
        self,
        chunks: list[Chunk],
        article_count: int,
        digest: str,
        progress: bool,
        previous: dict[str, np.ndarray],
        generation: int,
        on_progress: Progress | None,
    ) -> tuple[StoredIndex, int]:
        """The index over `chunks`, encoding only rows whose vectors `previous` lacks; also how many were encoded."""
        vectors, encoded = encode_rows(self.embedder, chunks, previous, progress, on_progress)
        dimension = self.embedder.dimension
        index = self._index_factory(dimension)
        index.add(vectors)
        manifest = Manifest(
            model=self.embedder.name,
            dimension=dimension,
            content_hash=digest,
            chunk_count=len(chunks),
            article_count=article_count,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            index_kind=index.kind,
            generation=generation,
        )
        return StoredIndex(manifest, chunks, index), encoded


def _normalised(query: str) -> str:
    """The query with runs of white space as one space; refuses an empty one."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty string")
    return " ".join(query.split())
