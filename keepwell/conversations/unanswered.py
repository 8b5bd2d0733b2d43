"""Unanswered questions: the customer messages the assistant did not understand over a period, grouped by meaning,
each group with its count, customers, trend and newest examples, so a CSM can answer a whole group at once (an
article, or training examples of an intent) and the group leaves the list.

A message is unanswered when the flagged queue's rule says so (`flag_queue.not_understood`: the fallback intent or
confidence below LOW_CONFIDENCE), when it was a help-centre question (KB_INTENTS) and no reply to it cited an
article (the assistant understood the kind of question but the knowledge base had nothing: "I'm not sure about
that one", exactly what a new article fixes), or when the assistant declined it as out of scope.

Messages are embedded with the knowledge base's own encoder (vectors cached per message: `message_vectors`, since
encoding 2,000 messages took 40 s on the two shared cores and reading them back 0.2-0.8 s) and grouped by
`clustering.cluster`.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from keepwell.batches import chunked
from keepwell.conversations import clustering
from keepwell.conversations.flag_queue import not_understood
from keepwell.conversations.message_vectors import Encoder, vectors
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.models import Conversation, HandledQuestion, Message, as_utc, utcnow

PERIODS = (7, 30, 90)  # days the page offers
DEFAULT_DAYS = 30
# Intents the assistant answers from the knowledge base (bot/rules): a reply without sources means it found nothing.
KB_INTENTS = ("ask_howto", "ask_faq", "report_problem")
# The assistant understood that it cannot help ("outside what I can help with"): still a question nobody answered.
OUT_OF_SCOPE = "out_of_scope"
# The newest this many unanswered messages are clustered (the similarity matrix is n x n).
MAX_MESSAGES = 2000
# Messages encoded for one page view at most (250 took 8-10 s on the two shared cores, so 100: ~3-4 s); a backlog is
# grouped over a few views, each adding its vectors to the cache (2,000 cached messages: 0.2-0.8 s a view).
ENCODE_PER_VIEW = 100
EXAMPLES = 5
MAX_TEXT = 500  # longer messages are pasted logs, not questions: left out
HANDLED_KINDS = ("article", "intent")


class UnansweredError(ValueError):
    """Messages that cannot be handled as asked; the message says why and is safe to show."""


@dataclass(frozen=True)
class Question:
    message_id: int
    conversation_id: str
    customer_id: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class Cluster:
    label: str  # the most central question's text
    questions: list[Question]  # newest first
    trend: list[tuple[str, int]]  # (day or week, messages)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def customers(self) -> int:
        """Distinct accounts that asked (anonymous visitors count once per conversation)."""
        return len({q.customer_id or f"visitor:{q.conversation_id}" for q in self.questions})

    @property
    def examples(self) -> list[Question]:
        return self.questions[:EXAMPLES]

    @property
    def message_ids(self) -> list[int]:
        return [q.message_id for q in self.questions]

    @property
    def distinct_texts(self) -> list[str]:
        """Each different wording once (case and spacing ignored), the label first, then newest first."""
        seen, texts = set(), []
        for text in [self.label, *(q.text for q in self.questions)]:
            key = " ".join(text.split()).casefold()
            if key not in seen:
                seen.add(key)
                texts.append(" ".join(text.split()))
        return texts


@dataclass(frozen=True)
class Handled:
    kind: str  # article | intent
    target: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class Report:
    days: int
    since: datetime
    clusters: list[Cluster]
    handled: list[Handled]
    total: int  # unanswered, unhandled messages in the period (clustered: at most MAX_MESSAGES of them)
    encoded: int  # messages encoded for this report (not yet in the cache)
    pending: int  # messages not grouped yet: beyond ENCODE_PER_VIEW, encoded by the next views

    @property
    def grouped(self) -> int:
        return sum(cluster.count for cluster in self.clusters)

    @property
    def truncated(self) -> bool:
        return self.total > MAX_MESSAGES


def unanswered() -> ColumnElement[bool]:
    """Customer messages the assistant did not understand, found no article for, or declined as out of scope."""
    reply = aliased(Message)
    cited = exists().where(
        reply.reply_to_id == Message.id,
        reply.sources.is_not(None),
        cast(reply.sources, Text).not_in(["null", "[]"]),  # JSON null and an empty list cite nothing either
    )
    kb_missed = and_(
        Message.role == ROLE_CUSTOMER,
        Message.intent.in_(KB_INTENTS),
        Message.state.in_(("answered", "answered_late")),
        ~cited,
    )
    declined = and_(Message.role == ROLE_CUSTOMER, Message.intent == OUT_OF_SCOPE)
    return or_(not_understood(), kb_missed, declined)


def _open_in(since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    handled = exists().where(HandledQuestion.message_id == Message.id)
    return [unanswered(), Message.created_at >= since, Message.created_at < until, ~handled]


def report(session: Session, encoder: Encoder, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Report:
    """The period's unanswered, unhandled questions in clusters (largest first), and what was handled in it.
    Vectors it had to compute are added to the cache; the caller commits."""
    if days not in PERIODS:
        raise UnansweredError(f"Choose a period of {', '.join(map(str, PERIODS))} days.")
    until = now or utcnow()
    since = until - timedelta(days=days)
    conditions = _open_in(since, until)
    total = session.scalar(select(func.count()).select_from(Message).where(*conditions)) or 0
    rows = session.execute(
        select(Message.id, Message.conversation_id, Conversation.customer_id, Message.text, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*conditions, func.length(Message.text) <= MAX_TEXT)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(MAX_MESSAGES)
    ).all()
    questions = [
        Question(mid, cid, customer, " ".join(text.split()), as_utc(at)) for mid, cid, customer, text, at in rows
    ]
    questions = [q for q in questions if q.text]
    found, encoded = vectors(session, [(q.message_id, q.text) for q in questions], encoder, ENCODE_PER_VIEW)
    pending = sum(1 for q in questions if q.message_id not in found)
    questions = [q for q in questions if q.message_id in found]
    matrix = np.vstack([found[q.message_id] for q in questions]) if questions else np.zeros((0, 1), np.float32)
    clusters = []
    for group in clustering.cluster(matrix):
        members = sorted((questions[i] for i in group), key=lambda q: (q.at, q.message_id), reverse=True)
        label = questions[group[0]].text
        clusters.append(Cluster(label, members, _trend(members, since, until, days)))
    return Report(days, since, clusters, _handled(session, since, until), total, encoded, pending)


def _trend(questions: Sequence[Question], since: datetime, until: datetime, days: int) -> list[tuple[str, int]]:
    """Messages per UTC day (periods up to a month) or per week starting Monday (longer ones), every bucket shown."""
    weekly = days > 31

    def bucket(day: date) -> date:
        return day - timedelta(days=day.weekday()) if weekly else day

    counts: dict[date, int] = defaultdict(int)
    for question in questions:
        counts[bucket(question.at.date())] += 1
    buckets, day = [], bucket(since.date())
    while day <= until.date():
        buckets.append(day)
        day += timedelta(days=7 if weekly else 1)
    label = "week of {}" if weekly else "{}"
    return [(label.format(day.isoformat()), counts.get(day, 0)) for day in buckets]


def _handled(session: Session, since: datetime, until: datetime) -> list[Handled]:
    """The period's questions that were handled, by article or intent, most recently handled first."""
    rows = session.execute(
        select(HandledQuestion.kind, HandledQuestion.target, func.count(), func.max(HandledQuestion.handled_at))
        .join(Message, Message.id == HandledQuestion.message_id)
        .where(Message.created_at >= since, Message.created_at < until)
        .group_by(HandledQuestion.kind, HandledQuestion.target)
        .order_by(func.max(HandledQuestion.handled_at).desc())
    ).all()
    return [Handled(kind, target, count, as_utc(at)) for kind, target, count, at in rows]


def open_questions(session: Session, message_ids: Sequence[int]) -> list[Question]:
    """The unanswered, unhandled customer messages among `message_ids`, newest first.

    Raises:
        UnansweredError: none given, or one of them is not (or no longer) an unanswered question.
    """
    wanted = sorted(set(message_ids))
    if not wanted:
        raise UnansweredError("Choose at least one question.")
    handled = exists().where(HandledQuestion.message_id == Message.id)
    found: list[Question] = []
    for chunk in chunked(wanted):
        for mid, cid, customer, text, at in session.execute(
            select(Message.id, Message.conversation_id, Conversation.customer_id, Message.text, Message.created_at)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id.in_(chunk), unanswered(), ~handled)
        ):
            found.append(Question(mid, cid, customer, " ".join(text.split()), as_utc(at)))
    if len(found) != len(wanted):
        raise UnansweredError(
            "Some of these questions were handled meanwhile or are not unanswered questions: reload the page."
        )
    return sorted(found, key=lambda q: (q.at, q.message_id), reverse=True)


def mark_handled(session: Session, message_ids: Sequence[int], kind: str, target: str, by: str) -> int:
    """Record the messages as handled (`kind` article or intent, `target` the article id or the intent); they leave
    the clusters. Checks them as `open_questions` does; the caller audits and commits. Returns how many."""
    if kind not in HANDLED_KINDS:
        raise UnansweredError(f"Unknown way of handling questions: {kind!r}.")
    questions = open_questions(session, message_ids)
    now = utcnow()
    for question in questions:
        session.add(
            HandledQuestion(
                message_id=question.message_id, kind=kind, target=target[:200], handled_by=by, handled_at=now
            )
        )
    session.flush()
    return len(questions)
