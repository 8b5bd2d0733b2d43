"""What the unanswered-questions console tests share: the real encoder (loaded once per test module's process), a
reindexer over a temporary copy of a few articles, and customer messages the assistant did not understand."""

from datetime import timedelta
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from api.settings import Settings
from keepwell.models import Conversation, Message, utcnow
from keepwell.settings import CoreSettings
from knowledge_base import SentenceTransformerEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.index import ExactIndex
from knowledge_base.reindexer import Reindexer
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console._articles import copy_articles

PARQUET = (
    "how do I export my boards to Parquet",
    "can I download a board as a parquet file",
    "Parquet export of boards?",
)
SSO = ("does keepwell support SAML single sign-on", "can we use SAML single sign-on to log in")


def unanswered_settings(data_dir: Path) -> Settings:
    """A demo gateway whose knowledge base is a copy of the articles in `data_dir` (the tests write articles)."""
    return Settings(
        data_dir=data_dir, demo_mode=True, identity_secret=IDENTITY_SECRET, rate_limit_enabled=False,
        kb_content_dir=copy_articles(data_dir / "content"), kb_index_dir=data_dir / "index",
    )  # fmt: skip


@cache
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(CoreSettings(demo_mode=True).resolved_embedding_model_path)


def real_reindexer(settings: Settings) -> Reindexer:
    """The gateway's reindexer on the real model (shared across tests) and the exact index."""
    return Reindexer(
        lambda: KnowledgeBase(
            real_embedder(), settings.resolved_kb_index_dir, settings.kb_content_dir, index_factory=ExactIndex,
            min_score=settings.kb_min_score, reload_interval_s=0,
        )
    )  # fmt: skip


def seed_unanswered(db: Session) -> dict[str, list[int]]:
    """Parquet asked three ways (visitors, over the last three days), SSO twice, and a question that was answered;
    returns the customer messages' ids by topic."""
    ids: dict[str, list[int]] = {"parquet": [], "sso": [], "answered": []}
    now = utcnow()
    asked = [(t, "parquet", "nlu_fallback", 0.2) for t in PARQUET] + [(t, "sso", "ask_faq", 0.4) for t in SSO]
    asked.append(("how do I invite my team", "answered", "ask_howto", 0.95))
    for n, (text, topic, intent, confidence) in enumerate(asked):
        at = now - timedelta(days=3, hours=-n)
        conversation_id = f"conv_unanswered_{n}"
        db.add(Conversation(id=conversation_id, customer_id=None, created_at=at, last_message_at=at))
        db.flush()
        message = Message(conversation_id=conversation_id, role="customer", text=text, created_at=at,
                          state="answered", intent=intent, confidence=confidence)  # fmt: skip
        db.add(message)
        db.flush()
        sources = (
            [{"title": "Invite", "url": "/help/getting-started/invite-teammates"}] if topic == "answered" else None
        )
        db.add(Message(conversation_id=conversation_id, role="bot", text="…", created_at=at, state="sent",
                       reply_to_id=message.id, sources=sources))  # fmt: skip
        ids[topic].append(message.id)
    db.commit()
    return ids
