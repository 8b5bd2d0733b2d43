"""Keepwell's knowledge base: semantic search over the help-centre articles in `content/`.

Layers, each replaceable: documents (load, chunk, sentence rows, section anchors) -> embedder -> index (FAISS; exact
NumPy for tests) -> store (index directory with manifest) -> `KnowledgeBase` (build, search; `ranking` ranks articles
and picks each one's answering section from the vectors and `lexical` BM25; `spelling` corrects misspelt queries).
Rebuilds are incremental (`encoding`: unchanged rows keep their vectors) and a running `KnowledgeBase` loads a newer
index generation from disk. `authoring` creates, edits and retires articles for the console; `reindexer` runs a
build in the background. `python -m knowledge_base` is the CLI.
Importing this package loads no model and reads no file.
"""

from typing import TYPE_CHECKING

from .documents import Article, ArticleError, Chunk
from .embedder import Embedder, SentenceTransformerEmbedder
from .engine import KnowledgeBase
from .results import BuildReport, Passage, SearchResult
from .store import IndexMismatchError, StoreError

if TYPE_CHECKING:
    from keepwell.settings import CoreSettings

__all__ = [
    "Article",
    "ArticleError",
    "BuildReport",
    "Chunk",
    "Embedder",
    "IndexMismatchError",
    "KnowledgeBase",
    "Passage",
    "SearchResult",
    "SentenceTransformerEmbedder",
    "StoreError",
    "from_settings",
]


def from_settings(settings: "CoreSettings | None" = None) -> KnowledgeBase:
    """A `KnowledgeBase` wired from Keepwell's core settings (default: `get_core_settings()`); nothing is loaded yet.

    Uses `resolved_embedding_model_path`, `resolved_kb_index_dir`, `kb_content_dir`, `help_base_url`,
    `kb_min_score` and `kb_top_k`.
    """
    if settings is None:
        from keepwell.settings import get_core_settings

        settings = get_core_settings()
    return KnowledgeBase(
        embedder=SentenceTransformerEmbedder(settings.resolved_embedding_model_path),
        index_dir=settings.resolved_kb_index_dir,
        content_dir=settings.kb_content_dir,
        base_url=settings.help_base_url,
        min_score=settings.kb_min_score,
        top_k=settings.kb_top_k,
        ambiguity_margin=settings.kb_ambiguity_margin,
    )
