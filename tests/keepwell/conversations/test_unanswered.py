"""Unanswered questions with the real encoder (all-MiniLM-L6-v2) on SQLite and PostgreSQL: what counts as
unanswered, clusters by meaning with counts, customers, trend and examples, the vector cache, and handling."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell.conversations import unanswered
from keepwell.conversations.clustering import cluster
from keepwell.models import Conversation, HandledQuestion, Message, MessageVector
from knowledge_base import SentenceTransformerEmbedder
from tests.keepwell.conversations.conftest import add_conversation, add_customer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PARQUET = (
    "how do I export my boards to Parquet",
    "can I download a board as a parquet file",
    "Parquet export of boards?",
)
SSO = ("does keepwell support SAML single sign-on", "can we use SAML single sign-on to log in")
CSV = "how do I export my boards to CSV"  # close to Parquet (cosine 0.63) but another question


class CountingEncoder:
    """The real model, counting the texts it was asked to encode (to see the cache work)."""

    def __init__(self, embedder: SentenceTransformerEmbedder) -> None:
        self.embedder = embedder
        self.encoded = 0

    @property
    def name(self) -> str:
        return self.embedder.name

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.embedder.encode_queries(texts)


@pytest.fixture(scope="module")
def real_embedder() -> SentenceTransformerEmbedder:
    from keepwell.settings import CoreSettings

    return SentenceTransformerEmbedder(CoreSettings().resolved_embedding_model_path)


@pytest.fixture
def encoder(real_embedder: SentenceTransformerEmbedder) -> CountingEncoder:
    return CountingEncoder(real_embedder)


def _seed(db: Session) -> dict[str, list[int]]:
    """Parquet asked three ways by two accounts and a visitor (fallback, low confidence, a help question the
    knowledge base had no article for); SSO twice; and messages that do not count."""
    add_customer(db, "cus_a", "Acme Logistics", "growth", "small", None)
    add_customer(db, "cus_b", "Bolt Industries", "enterprise", "large", None)
    ids: dict[str, list[int]] = {}
    day = NOW - timedelta(days=3)
    ids["p1"] = add_conversation(db, "c1", "cus_a", "website", day, [(PARQUET[0], "nlu_fallback", 0.2)])
    ids["p2"] = add_conversation(db, "c2", "cus_b", "website", day + timedelta(days=1), [(PARQUET[1], "ask_faq", 0.4)])
    ids["p3"] = add_conversation(db, "c3", None, "api", day + timedelta(days=2), [(PARQUET[2], "ask_howto", 0.95)])
    ids["s"] = add_conversation(
        db, "c4", "cus_a", "website", day, [(SSO[0], "ask_faq", 0.5), (SSO[1], "ask_howto", 0.3)]
    )
    ids["csv"] = add_conversation(db, "c8", "cus_b", "website", day, [(CSV, "ask_howto", 0.9)])
    # Answered with an article (cited), confidently understood, too old, a bot message: none counts.
    ids["cited"] = add_conversation(db, "c5", "cus_b", "website", day, [("how do I invite my team", "ask_howto", 0.95)])
    reply = db.scalars(select(Message).where(Message.reply_to_id == ids["cited"][0])).one()
    reply.sources = [{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}]
    add_conversation(db, "c6", "cus_b", "website", day, [("thanks a lot", "thank", 0.99)])
    ids["declined"] = add_conversation(
        db, "c9", None, "website", day, [("what is the weather in Oslo", "out_of_scope", 0.9)]
    )
    add_conversation(db, "c7", "cus_b", "website", NOW - timedelta(days=40), [("parquet export please", None, 0.1)])
    db.commit()
    return ids


def test_clusters_by_meaning_with_counts_customers_trend_and_examples(db: Session, encoder: CountingEncoder) -> None:
    ids = _seed(db)
    found = unanswered.report(db, encoder, days=7, now=NOW)
    db.commit()

    assert found.total == 7 and not found.truncated
    assert [c.count for c in found.clusters] == [3, 2, 1, 1]
    parquet, sso = found.clusters[:2]
    assert {c.label for c in found.clusters[2:]} == {CSV, "what is the weather in Oslo"}
    assert parquet.label in PARQUET and sso.label in SSO
    assert parquet.message_ids == [ids["p3"][0], ids["p2"][0], ids["p1"][0]]  # newest first
    assert parquet.customers == 3  # two accounts and one visitor
    assert sso.customers == 1
    assert len(parquet.trend) == 8 and sum(n for _, n in parquet.trend) == 3
    assert parquet.trend[-4:-1] == [("2026-11-27", 1), ("2026-11-28", 1), ("2026-11-29", 1)]
    assert [q.conversation_id for q in parquet.examples] == ["c3", "c2", "c1"]
    assert parquet.distinct_texts[0] == parquet.label and len(parquet.distinct_texts) == 3

    # A second view reads the vectors back instead of encoding again.
    assert found.encoded == 7 and encoder.encoded == 7
    assert db.scalar(select(func.count()).select_from(MessageVector)) == 7
    again = unanswered.report(db, encoder, days=7, now=NOW)
    assert again.encoded == 0 and encoder.encoded == 7
    assert [c.message_ids for c in again.clusters] == [c.message_ids for c in found.clusters]

    # Ninety days reach the old message; the trend is by week.
    longer = unanswered.report(db, encoder, days=90, now=NOW)
    assert longer.total == 8 and longer.clusters[0].count == 4
    assert longer.clusters[0].trend[0][0].startswith("week of ")


def test_a_backlog_is_encoded_a_few_hundred_messages_a_view(
    db: Session, encoder: CountingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db)
    monkeypatch.setattr(unanswered, "ENCODE_PER_VIEW", 4)
    first = unanswered.report(db, encoder, days=7, now=NOW)
    assert (first.encoded, first.pending, first.grouped, first.total) == (4, 3, 4, 7)
    db.commit()
    second = unanswered.report(db, encoder, days=7, now=NOW)
    assert (second.encoded, second.pending, second.grouped) == (3, 0, 7)
    assert [c.count for c in second.clusters] == [3, 2, 1, 1]


def test_a_cached_vector_of_another_model_is_replaced(db: Session, encoder: CountingEncoder) -> None:
    ids = _seed(db)
    db.add(MessageVector(message_id=ids["p1"][0], model="another-model", vector=np.ones(3, np.float32).tobytes()))
    db.commit()
    unanswered.report(db, encoder, days=7, now=NOW)
    db.commit()
    stored = db.get(MessageVector, ids["p1"][0])
    assert stored is not None and stored.model == encoder.name and len(stored.vector) == 384 * 4


def test_handled_questions_leave_the_clusters(db: Session, encoder: CountingEncoder) -> None:
    ids = _seed(db)
    parquet = unanswered.report(db, encoder, days=7, now=NOW).clusters[0]
    assert unanswered.mark_handled(db, parquet.message_ids, "article", "data/export-parquet", "csm@x.test") == 3
    db.commit()

    after = unanswered.report(db, encoder, days=7, now=NOW + timedelta(seconds=1))
    assert [c.count for c in after.clusters] == [2, 1, 1] and after.total == 4
    assert [(h.kind, h.target, h.count) for h in after.handled] == [("article", "data/export-parquet", 3)]
    # Handled twice, a message that is not unanswered, or nothing at all: refused, nothing written.
    for bad in (parquet.message_ids[:1], ids["cited"]):
        with pytest.raises(unanswered.UnansweredError):
            unanswered.mark_handled(db, [*ids["s"], *bad], "intent", "ask_faq", "csm@x.test")
    with pytest.raises(unanswered.UnansweredError, match="at least one"):
        unanswered.mark_handled(db, [], "intent", "ask_faq", "csm@x.test")
    with pytest.raises(unanswered.UnansweredError):
        unanswered.mark_handled(db, ids["s"], "delete", "x", "csm@x.test")
    assert db.scalar(select(func.count()).select_from(HandledQuestion)) == 3


def test_deleting_a_message_deletes_its_vector_and_handled_mark(db: Session, encoder: CountingEncoder) -> None:
    ids = _seed(db)
    unanswered.report(db, encoder, days=7, now=NOW)
    unanswered.mark_handled(db, ids["p1"], "intent", "ask_faq", "csm@x.test")
    db.commit()
    db.delete(db.get(Conversation, "c1"))
    db.commit()
    assert db.get(MessageVector, ids["p1"][0]) is None and db.get(HandledQuestion, ids["p1"][0]) is None


def test_a_period_the_page_does_not_offer_is_refused(db: Session, encoder: CountingEncoder) -> None:
    with pytest.raises(unanswered.UnansweredError, match="7, 30, 90"):
        unanswered.report(db, encoder, days=8, now=NOW)


def test_clustering_groups_within_the_threshold_around_the_most_central() -> None:
    def unit(*rows: list[float]) -> np.ndarray:
        array = np.array(rows, dtype=np.float32)
        return array / np.linalg.norm(array, axis=1, keepdims=True)

    # Rows 0-2 close together (1 in the middle), row 3 far from all, row 4 close to 0 only.
    vectors = unit([1, 0.1, 0], [1, 0.2, 0], [1, 0.3, 0], [0, 0, 1], [1, -0.5, 0])
    assert cluster(vectors, threshold=0.98) == [[1, 0, 2], [3], [4]]
    assert cluster(vectors, threshold=0.5) == [[0, 1, 2, 4], [3]]  # row 4 pulls the centre towards row 0
    assert cluster(np.zeros((0, 3), dtype=np.float32)) == []
