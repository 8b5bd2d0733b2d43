"""What the knowledge-base console tests share: a temporary copy of a few articles and a reindexer on the fake
embedder (never the repository's content folder, never the real model)."""

import shutil
from pathlib import Path

from api.settings import Settings
from knowledge_base.engine import KnowledgeBase
from knowledge_base.index import ExactIndex
from knowledge_base.reindexer import Reindexer
from tests.knowledge_base.conftest import FakeEmbedder

REPO_CONTENT = Path(__file__).resolve().parents[3] / "knowledge_base" / "content"
COPIED = ("billing/cancel-subscription.md", "billing/invoices-and-receipts.md", "getting-started/invite-teammates.md")


def copy_articles(target: Path) -> Path:
    """A few of the shipped articles in `target` (never the repository's folder)."""
    for name in COPIED:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_CONTENT / name, target / name)
    return target


def fake_reindexer(settings: Settings) -> Reindexer:
    """The gateway's reindexer with the deterministic fake embedder and the exact index."""
    return Reindexer(
        lambda: KnowledgeBase(
            FakeEmbedder(), settings.resolved_kb_index_dir, settings.kb_content_dir, index_factory=ExactIndex,
            min_score=settings.kb_min_score, reload_interval_s=0,
        )
    )  # fmt: skip
