"""Generated conversations for a realistic inbox (`python -m keepwell seed-conversations`, `make seed-conversations`)
and the inbox benchmark: N conversations of ten turns each (a customer message and the assistant's answer) with
intents and confidences, some fallbacks and low-confidence turns, handoffs with CSAT, tags, review states, the
flags the assistant raises (a repeated question, a frustrated customer, two unhelpful answers in a row), feedback
(ideas, complaints), across channels and the accounts in the database (some anonymous), spread over the last 90
days. Written with bulk inserts in batches; the same seed gives the same conversations."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from keepwell import escalation
from keepwell.conversations.records import ANSWERED, ROLE_BOT, ROLE_CUSTOMER, SENT
from keepwell.feedback import polarity_of
from keepwell.models import Conversation, ConversationFlag, ConversationTag, Customer, Feedback, Handoff, Message

TURNS = 10
SPREAD_DAYS = 90
BATCH = 500  # conversations per insert batch (10,000 messages)
LOAD_CACHE_KIB = 256 * 1024
TAGS = ("pricing", "bug-report", "onboarding", "churn-risk", "feature-request", "billing", "integrations")
SEED_BY = "seed-conversations"

# What customers say, by the intent the assistant recognised (a few phrasings each).
_SAYINGS: dict[str, tuple[str, ...]] = {
    "greet": ("hi there", "hello", "hey, quick question"),
    "ask_howto": (
        "how do I invite my team to the workspace",
        "how can I export my projects to CSV",
        "where do I connect the Slack integration",
        "how do I set up two-factor authentication",
        "can I change someone's role to admin",
        "how do recurring tasks work",
    ),
    "ask_faq": ("is there a mobile app", "do you support SSO with Okta", "where is my data stored"),
    "ask_account_health": ("how is my account doing", "are we using the product well"),
    "ask_plan_renewal": ("when does our plan renew", "what plan are we on"),
    "ask_recommendations": ("any recommendations for us", "what should we try next"),
    "report_problem": ("the calendar sync is still not working", "invoices page shows an error", "it keeps crashing"),
    "request_cancellation": ("I want to cancel our subscription", "how do we downgrade to starter"),
    "request_refund": ("can we get a refund for last month",),
    "request_human": ("can I talk to a person", "get me a human please"),
    "give_feedback": (
        "it would be great to have dark mode",
        "please add a Gantt view",
        "the board gets really slow with lots of cards",
        "the new editor is confusing",
    ),
    "thank": ("thanks, that helped", "great, thank you"),
    "affirm": ("yes", "yes please"),
    "deny": ("no thanks", "not now"),
}
_FRUSTRATED = (
    "this is useless, it still doesn't work",
    "seriously, third time I'm asking!!",
    "I'm so fed up with this",
)
_FALLBACKS = ("blorp the widget thing", "purple elephant invoices??", "asdf", "the thing with the stuff")
_ANSWERS: dict[str, tuple[str, str]] = {
    "greet": ("Hi, I'm Keepwell. How can I help?", "utter_greet"),
    "thank": ("You're welcome!", "utter_you_are_welcome"),
    "affirm": ("Great.", "action_acknowledge"),
    "deny": ("No problem.", "action_acknowledge"),
    "ask_howto": ("Here is how: open Settings and follow the steps in the article.", "action_answer_from_kb"),
    "ask_faq": ("Yes: the article below has the details.", "action_answer_from_kb"),
    "ask_account_health": ("Your account is in good health: 38 of 40 seats in use.", "action_account_health"),
    "ask_plan_renewal": ("You are on Growth; it renews on 1 March.", "action_plan_renewal"),
    "ask_recommendations": ("Teams like yours get a lot from Automations.", "action_recommend"),
    "report_problem": ("Sorry about that. Try these troubleshooting steps.", "action_answer_from_kb"),
    "request_cancellation": ("I can help with that. Here is how cancelling works.", "action_churn_moment"),
    "request_refund": ("Refunds are handled by billing; here is how.", "action_churn_moment"),
    "request_human": ("I'm getting a person for you; they'll reply right here.", "action_handoff"),
    "give_feedback": ("Thanks, I've passed that on to the product team.", "action_record_feedback"),
}
# The article an answer cites, by a word of the question (any other question cites one at random).
_ARTICLES = {
    "invite": ("Invite teammates", "/help/getting-started/invite-teammates"),
    "export": ("Export your data", "/help/admin-security/data-export"),
    "two-factor": ("Two-factor authentication", "/help/admin-security/two-factor-authentication"),
    "role": ("Roles and permissions", "/help/admin-security/roles-and-permissions"),
    "cancel": ("Cancel your subscription", "/help/billing/cancel-subscription"),
}
_CHANNELS = (("website", 0.55), ("in_app", 0.35), ("api", 0.10))
_REVIEW = (("new", 0.7), ("needs_review", 0.15), ("reviewed", 0.15))
_HANDOFF_KINDS = ("asked_for_person", "frustration", "churn_moment", "offer_accepted")


@dataclass(frozen=True)
class Seeded:
    conversations: int
    messages: int
    handoffs: int
    tags: int
    flags: int
    feedback: int


def seed(
    session: Session,
    count: int,
    *,
    seed: int = 0,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Seeded:
    """Insert `count` generated conversations (the caller commits). `progress` is called with each batch's size.

    Raises:
        ValueError: count below 1.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrecy
    now = now or datetime.now(UTC)
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The indexes on conversation ids take inserts all over their B-trees: with SQLite's default 2 MiB page
        # cache most of them miss. A larger cache for this connection, while it loads, halves the time.
        cache_size = session.execute(text("PRAGMA cache_size")).scalar()
        session.execute(text(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}"))
    customers = list(session.scalars(select(Customer.id).order_by(Customer.id)))
    next_message = (session.scalar(select(func.max(Message.id))) or 0) + 1
    totals = {"conversations": 0, "messages": 0, "handoffs": 0, "tags": 0, "flags": 0, "feedback": 0}
    for size in _batches(count):
        rows: dict[str, list[dict[str, Any]]] = {"conversations": [], "messages": [], "handoffs": [], "tags": []}
        rows["flags"], rows["feedback"] = [], []
        for _ in range(size):
            next_message = _conversation(rng, now, customers, next_message, rows)
        for table, model in (
            ("conversations", Conversation),
            ("messages", Message),
            ("handoffs", Handoff),
            ("tags", ConversationTag),
            ("flags", ConversationFlag),
            ("feedback", Feedback),
        ):
            if rows[table]:
                session.execute(model.__table__.insert(), rows[table])  # Core: executemany, no ORM bookkeeping
            totals[table] += len(rows[table])
        if progress is not None:
            progress(size)
    if sqlite:
        session.execute(text(f"PRAGMA cache_size = {int(cache_size)}"))
    return Seeded(**totals)


def _batches(count: int) -> Iterator[int]:
    while count > 0:
        yield min(BATCH, count)
        count -= BATCH


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def _conversation(
    rng: random.Random, now: datetime, customers: list[str], next_id: int, rows: dict[str, list[dict[str, Any]]]
) -> int:
    """Add one conversation's rows; returns the next free message id."""
    conversation_id = f"{rng.getrandbits(128):032x}"
    channel = _pick(rng, _CHANNELS)
    signed_in = customers and (channel == "in_app" or rng.random() < 0.6)
    customer_id = rng.choice(customers) if signed_in else None
    start = now - timedelta(seconds=rng.uniform(0, SPREAD_DAYS * 86_400))
    at = start
    intents = list(_SAYINGS)
    handed_over = rng.random() < 0.12
    frustrated = rng.random() < 0.04
    said: set[str] = set()
    # What the assistant would flag: (reason, message id, the customer's words), the first of each reason.
    noticed: dict[str, tuple[int, str]] = {}
    missed_before = False
    for turn in range(TURNS):
        at += timedelta(seconds=rng.uniform(5, 90))
        roll = rng.random()
        if handed_over and turn == TURNS - 3:
            intent, confidence = "request_human", rng.uniform(0.85, 0.99)
            text = rng.choice(_SAYINGS[intent])
        elif frustrated and turn == TURNS - 4:
            intent, confidence, text = "report_problem", rng.uniform(0.7, 0.95), rng.choice(_FRUSTRATED)
            noticed.setdefault(escalation.FRUSTRATION, (next_id, text))
        elif roll < 0.07:
            intent, confidence, text = "nlu_fallback", rng.uniform(0.15, 0.45), rng.choice(_FALLBACKS)
        else:
            intent = rng.choice(intents)
            confidence = rng.uniform(0.35, 0.6) if roll < 0.15 else rng.uniform(0.6, 0.995)
            text = rng.choice(_SAYINGS[intent])
        missed = confidence < 0.6
        if missed and missed_before:
            noticed.setdefault(escalation.UNHELPFUL_ANSWERS, (next_id, text))
        if text in said:
            noticed.setdefault(escalation.REPEATED_QUESTION, (next_id, text))
        missed_before = missed
        said.add(text)
        if intent == "give_feedback":
            rows["feedback"].append(
                {"conversation_id": conversation_id, "customer_id": customer_id, "text": text, "created_at": at,
                 "polarity": polarity_of(text), "article_id": None}
            )  # fmt: skip
        answer, action = _ANSWERS.get(
            intent, ("Sorry, I didn't get that. Could you rephrase?", "action_default_fallback")
        )
        sources = []
        if action == "action_answer_from_kb":
            title, url = next(
                (a for word, a in _ARTICLES.items() if word in text), rng.choice(list(_ARTICLES.values()))
            )
            sources = [{"title": title, "url": url, "score": round(rng.uniform(0.4, 0.9), 3)}]
        # Every message row has the same keys: one executemany per batch (rows with other keys would each be
        # a statement of their own).
        rows["messages"].append(
            {
                "id": next_id, "conversation_id": conversation_id, "role": ROLE_CUSTOMER, "text": text,
                "created_at": at, "state": ANSWERED, "intent": intent, "confidence": round(confidence, 4),
                "entities": [], "actions": [action], "attempts": 1, "reply_to_id": None, "sources": [],
                "buttons": [],
            }
        )  # fmt: skip
        rows["messages"].append(
            {
                "id": next_id + 1, "conversation_id": conversation_id, "role": ROLE_BOT, "text": answer,
                "created_at": at + timedelta(seconds=1), "state": SENT, "intent": None, "confidence": None,
                "entities": [], "actions": [], "attempts": 0, "reply_to_id": next_id, "sources": sources,
                "buttons": [],
            }
        )  # fmt: skip
        next_id += 2
    rows["conversations"].append(
        {
            "id": conversation_id,
            "customer_id": customer_id,
            "channel": channel,
            "created_at": start,
            "last_message_at": at,
            "rasa_event_cursor": 0,
            "review_status": _pick(rng, _REVIEW),
        }
    )
    if handed_over:
        closed = rng.random() < 0.7
        rows["handoffs"].append(
            {
                "conversation_id": conversation_id, "customer_id": customer_id, "reason": "can I talk to a person",
                "kind": rng.choice(_HANDOFF_KINDS), "status": "closed" if closed else rng.choice(("open", "released")),
                "transcript": [], "created_at": at - timedelta(minutes=3),
                "closed_at": at if closed else None, "closed_by": SEED_BY if closed else None,
                "csat_score": rng.randint(1, 5) if closed and rng.random() < 0.6 else None,
            }
        )  # fmt: skip
    if rng.random() < 0.2:
        for tag in rng.sample(TAGS, rng.randint(1, 2)):
            rows["tags"].append(
                {"conversation_id": conversation_id, "tag": tag, "created_at": at, "created_by": SEED_BY}
            )
    for reason, (message_id, words) in noticed.items():
        # The generated conversations repeat their few phrasings far more than people do: only some repeats and
        # double misses are flagged, so the queue holds about as many as a real log would.
        if reason == escalation.FRUSTRATION or rng.random() < 0.1:
            rows["flags"].append(
                {"conversation_id": conversation_id, "message_id": message_id, "reason": reason, "detail": words,
                 "created_at": at}
            )  # fmt: skip
    return next_id
