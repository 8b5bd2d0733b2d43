"""The console's conversation inbox, flagged queue and transcript at scale: 10,000 generated conversations of ten
turns (as `make seed-conversations N=10000` writes them, with the flags the assistant raises and feedback) in a new
SQLite database with the demo accounts, then the inbox's first page under each filter alone and several combined
(full-text search included), the flagged queue's first page without and with its filters, and a sample of transcripts,
each requested through the gateway as a signed-in CSM (session check, queries, rendering, and for a transcript the
audit entry it writes), timed against issue 10's budgets: inbox under 300 ms p95, transcript under 100 ms p95."""

import random
import re
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.settings import Settings
from keepwell.bootstrap import DEMO_CSM, prepare
from keepwell.conversations import seeding
from keepwell.db import dispose_engine, get_engine, session_factory
from keepwell.models import Conversation

from .metrics import latency_summary
from .report import BenchmarkResult, Row

INBOX_BUDGET_MS, TRANSCRIPT_BUDGET_MS = 300.0, 100.0
# Each filter alone, then combinations; values the generated conversations hold (keepwell/conversations/seeding.py).
FILTERS: tuple[tuple[str, str], ...] = (
    ("no filter", ""),
    ("text search, one word", "q=invite"),
    ("text search, three words", "q=slack+integration+connect"),
    ("date range", "from={month_ago}&to={today}"),
    ("channel", "channel=in_app"),
    ("channel other", "channel=other"),
    ("customer by name", "customer=a"),
    ("customer by id", "customer=cus_001"),
    ("segment", "segment=growth"),
    ("health band", "band=red"),
    ("owner CSM", "owner={owner}"),
    ("intent", "intent=request_cancellation"),
    ("lowest confidence below 0.4", "confidence_below=0.4"),
    ("had a fallback", "fallback=yes"),
    ("no fallback", "fallback=no"),
    ("had a handoff", "handoff=yes"),
    ("CSAT given", "csat=given"),
    ("CSAT 2", "csat=2"),
    ("tag", "tag=pricing"),
    ("review status", "review=needs_review"),
    ("length 5 to 10 customer messages", "min_messages=5&max_messages=10"),
    ("search + handoff + no CSAT", "q=cancel&handoff=yes&csat=none"),
    ("band + channel + fallback + review", "band=yellow&channel=website&fallback=yes&review=new"),
    ("segment + intent + confidence + tag", "segment=enterprise&intent=ask_howto&confidence_below=0.5&tag=billing"),
    ("owner + review + length + search", "owner={owner}&review=needs_review&min_messages=3&q=export"),
    ("every filter at once", "q=refund&from={month_ago}&to={today}&channel=website&segment=growth&band=green"
     "&owner={owner}&intent=request_refund&confidence_below=0.9&fallback=no&handoff=no&csat=none&review=new"
     "&min_messages=1&max_messages=20"),
)  # fmt: skip
# The flagged queue's first page: all of it, each kind of reason, and the signed-in CSM's own.
QUEUE_FILTERS: tuple[tuple[str, str], ...] = (
    ("no filter", ""),
    ("reason: repeated question (a stored flag)", "reason=repeated_question"),
    ("reason: frustration (a stored flag)", "reason=frustration"),
    ("reason: not understood", "reason=not_understood"),
    ("reason: negative feedback", "reason=negative_feedback"),
    ("reason: low CSAT", "reason=low_csat"),
    ("reason: red account", "reason=red_health"),
    ("mine", "mine=1"),
    ("mine + handoff", "mine=1&reason=handoff"),
)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def run_inbox_benchmark(
    work_dir: Path, conversations: int = 10_000, repeats: int = 15, transcripts: int = 60, seed: int = 0
) -> BenchmarkResult:
    """Seed, then time the inbox's first page per filter combination and a sample of transcripts.

    Args:
        repeats: timed requests per filter combination (after one untimed warm-up request).
        transcripts: conversations whose transcript is opened once each (after five warm-ups).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="inbox-") as folder:
        url = f"sqlite:///{Path(folder) / 'keepwell.db'}"
        settings = Settings(
            data_dir=Path(folder), demo_mode=True, database_url=url,
            tracker_store_url=f"sqlite:///{Path(folder) / 'conversations.db'}",
            rate_limit_enabled=False, redelivery_interval_s=60,
        )  # fmt: skip
        try:
            prepare(settings)
            engine = get_engine(url)
            started = time.perf_counter()
            with session_factory(engine)() as session:
                seeded = seeding.seed(session, conversations, seed=seed)
                session.commit()
            seeding_s = time.perf_counter() - started
            with session_factory(engine)() as session:
                ids = list(session.scalars(select(Conversation.id).order_by(Conversation.id)))
            rows = _measure(settings, ids, repeats, transcripts, seed)
        finally:
            dispose_engine(url)
    messages_per_s = seeded.messages / seeding_s if seeding_s else None
    seed_row = Row(
        f"Seed {seeded.conversations:,} conversations (seed-conversations)",
        "this run",
        {"rows": seeded.messages, "wall_seconds": seeding_s, "rows_per_second": messages_per_s},
    )
    return BenchmarkResult(
        dataset="keepwell",
        kind="inbox",
        title=f"Console inbox and transcript: {conversations:,} conversations x {seeding.TURNS} turns",
        rows=[seed_row, *rows],
        setup=[
            f"Database: a new SQLite file with the demo accounts (`keepwell.bootstrap.prepare`), then "
            f"`keepwell.conversations.seeding.seed` as `python -m keepwell seed-conversations --count {conversations} "
            f"--seed {seed}` does: {seeded.messages:,} messages, {seeded.handoffs:,} handoffs, {seeded.tags:,} tags, "
            f"{seeded.flags:,} flags, {seeded.feedback:,} feedback.",
            f"Inbox: `GET /console?<filters>` (first page, 25 rows, with the total) through the gateway as the demo "
            f"CSM, {repeats} timed requests per combination after one warm-up; Rows = conversations matching.",
            f"Flagged queue: `GET /console/flags?<filters>` (first page, 25 rows, with the total), {repeats} timed "
            "requests per filter after one warm-up; Rows = conversations on the queue under the filter.",
            f"Transcript: `GET /console/conversations/<id>` for {transcripts} random conversations once each after "
            "five warm-ups (each writes its audit entry).",
            "Budgets are issue 10's: inbox under 300 ms p95 with any combination of filters, transcript under 100 ms; "
            "the flagged queue is held to the inbox's.",
        ],
        notes=[
            "Wall-clock times on a shared 2-core machine, in-process (Starlette's TestClient, no network): the load "
            "average at start (above) says how busy it was.",
        ],
    )


def _measure(settings: Settings, ids: list[str], repeats: int, transcripts: int, seed: int) -> list[Row]:
    app = create_app(settings)
    rows: list[Row] = []
    with TestClient(app) as client:
        owner = _sign_in(client)
        today = time.strftime("%Y-%m-%d", time.gmtime())
        month_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86_400))
        for label, template in FILTERS:
            query = template.format(owner=owner, today=today, month_ago=month_ago)
            path = "/console" + (f"?{query}" if query else "")
            _get(client, path)
            timings = [_get(client, path) for _ in range(repeats)]
            total = _total(client.get(path).text)
            p50, p95 = latency_summary(timings)
            values = {"latency_p50_ms": p50, "latency_p95_ms": p95, "rows": total, "budget_ms": INBOX_BUDGET_MS}
            rows.append(Row(f"Inbox first page: {label}", "this run", values))
        for label, query in QUEUE_FILTERS:
            path = "/console/flags" + (f"?{query}" if query else "")
            _get(client, path)
            timings = [_get(client, path) for _ in range(repeats)]
            total = _total(client.get(path).text, "flag-count")
            p50, p95 = latency_summary(timings)
            values = {"latency_p50_ms": p50, "latency_p95_ms": p95, "rows": total, "budget_ms": INBOX_BUDGET_MS}
            rows.append(Row(f"Flagged queue first page: {label}", "this run", values))
        sample = random.Random(seed).sample(ids, min(len(ids), transcripts + 5))  # noqa: S311 -- a sample, not a secret
        for conversation_id in sample[:5]:
            _get(client, f"/console/conversations/{conversation_id}")
        timings = [_get(client, f"/console/conversations/{conversation_id}") for conversation_id in sample[5:]]
        p50, p95 = latency_summary(timings)
        values = {"latency_p50_ms": p50, "latency_p95_ms": p95, "rows": len(timings), "budget_ms": TRANSCRIPT_BUDGET_MS}
        rows.append(Row("Transcript page", "this run", values))
    return rows


def _sign_in(client: TestClient) -> str:
    """Sign in as the demo CSM (the owner of the demo accounts); returns their id for the owner filter."""
    form = client.get("/console/login").text
    token = _CSRF.search(form)
    assert token, "no CSRF field on the login form"
    email, password = DEMO_CSM
    response = client.post(
        "/console/login", data={"username": email, "password": password, "csrf": token.group(1)}, follow_redirects=False
    )
    if response.status_code != 303:
        raise RuntimeError(f"signing in as the demo CSM failed: {response.status_code}")
    owner = re.search(r'<option value="(\d+)"[^>]*>[^<]*\(me\)', client.get("/console").text)
    if owner is None:
        raise RuntimeError("the demo CSM owns no account")
    return owner.group(1)


def _get(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return elapsed


def _total(page: str, counter: str = "inbox-count") -> int:
    found = re.search(rf'id="{counter}">([\d,]+) conversation', page)
    if found is None:
        raise RuntimeError(f"the page does not say how many conversations match ({counter})")
    return int(found.group(1).replace(",", ""))
