"""Knowledge-base test doubles: a deterministic bag-of-words embedder and factories for articles and engines."""

import hashlib
import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge_base.engine import KnowledgeBase
from knowledge_base.index import ExactIndex

_STOPWORDS = {
    "a", "an", "and", "are", "can", "do", "does", "for", "from", "how", "i", "in", "is", "it", "my", "of", "on", "or",
    "the", "to", "what", "with", "you", "your",
}  # fmt: skip


class FakeEmbedder:
    """Hashed bag of words in `dimension` buckets, normalised: texts sharing words score high, others near 0.

    Counts what it encodes so tests can tell a rebuild (passages encoded) from a load (none).
    """

    def __init__(self, name: str = "fake-bow-256", dimension: int = 256) -> None:
        self.name = name
        self.dimension = dimension
        self.passages_encoded = 0
        self.queries_encoded = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries_encoded += len(texts)
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.passages_encoded += len(texts)
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [word for word in re.findall(r"[a-z0-9]+", text.lower()) if word not in _STOPWORDS]
            for word in words:
                bucket = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little") % self.dimension
                vectors[row, bucket] += 1.0
            if not words:
                vectors[row, 0] = 1.0  # a unit vector even for text without words
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def article_text(
    title: str, body: str, summary: str | None = "A short summary.", questions: dict[str, object] | None = None
) -> str:
    """The Markdown of an article file with front matter; `questions` becomes its `questions:` key."""
    front = f"title: {title}\n" + (f"summary: {summary}\n" if summary is not None else "")
    if questions is not None:
        front += yaml.safe_dump({"questions": questions}, sort_keys=False)
    return f"---\n{front}---\n{textwrap.dedent(body).strip()}\n"


WriteArticle = Callable[..., Path]


@pytest.fixture
def write_article(tmp_path: Path) -> WriteArticle:
    """Write `<content>/<category>/<slug>.md` under tmp_path/content and return its path."""

    def write(
        category: str,
        slug: str,
        title: str,
        body: str,
        summary: str | None = "A short summary.",
        questions: dict[str, object] | None = None,
    ) -> Path:
        path = tmp_path / "content" / category / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(title, body, summary, questions), encoding="utf-8")
        return path

    return write


@pytest.fixture
def content_dir(tmp_path: Path, write_article: WriteArticle) -> Path:
    """Three small articles in two categories, with distinct vocabulary."""
    write_article(
        "getting-started",
        "invite-teammates",
        "Invite teammates to your workspace",
        """
        Workspace admins can invite teammates by email.

        ## Send an invitation
        Open Settings, choose Members, click Invite and enter addresses. Invitations expire after seven days.

        ## Resend an invitation
        Pending invitations can be resent from the Members page.
        """,
        summary="Add colleagues to a workspace.",
    )
    write_article(
        "billing",
        "download-invoices",
        "Download invoices",
        """
        Every payment produces an invoice PDF.

        ## Find past invoices
        Billing admins open Billing, then Invoices, and download any PDF.

        ## Change the billing address
        Update the address printed on invoices under Billing details.
        """,
        summary="Where invoices live.",
    )
    write_article(
        "billing",
        "cancel-subscription",
        "Cancel your subscription",
        """
        Cancelling stops renewal at the end of the current period.

        ## Cancel a plan
        Owners open Billing, choose Plan, and click Cancel subscription.
        """,
        summary="Stop paying for Orbitly.",
    )
    return tmp_path / "content"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def make_embedder() -> type[FakeEmbedder]:
    """The fake embedder class, for tests that need another "model" (name, dimension)."""
    return FakeEmbedder


MakeKnowledgeBase = Callable[..., KnowledgeBase]


@pytest.fixture
def make_kb(tmp_path: Path, content_dir: Path, fake_embedder: FakeEmbedder) -> MakeKnowledgeBase:
    """A KnowledgeBase over `content_dir` with the fake embedder and the exact index; keyword arguments override."""

    def make(**overrides: object) -> KnowledgeBase:
        options: dict[str, object] = {
            "embedder": fake_embedder,
            "index_dir": tmp_path / "index",
            "content_dir": content_dir,
            "base_url": "/help",
            "min_score": 0.40,
            "top_k": 3,
            "index_factory": ExactIndex,
        }
        options.update(overrides)
        return KnowledgeBase(**options)  # type: ignore[arg-type]

    return make
