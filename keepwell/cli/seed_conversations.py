"""`python -m keepwell seed-conversations --count N`: N generated conversations of ten turns in the app database (for
trying the console's inbox at scale, and its benchmark), across the accounts it holds, with a progress bar. Exit
codes: 0 written, 1 refused (database not at the migrations' head), 2 wrong usage. In demo mode the database is
migrated and the demo accounts seeded first, as `make run` does."""

import argparse
import sys
import time

from tqdm import tqdm

from keepwell.bootstrap import prepare
from keepwell.conversations import seeding
from keepwell.db import SchemaOutdated, check_current, get_engine, session_scope
from keepwell.settings import get_core_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "seed-conversations",
        help="add N generated conversations of ten turns (intents, fallbacks, handoffs, CSAT, tags, review states)",
        description="Adds N generated conversations of ten turns each (a customer message and the assistant's "
        "answer) spread over the last 90 days, across the channels and the accounts in the database, with bulk "
        "inserts in one transaction. Meant for demos and benchmarks, never for a production database.",
    )
    parser.add_argument("--count", type=_positive, required=True, metavar="N", help="how many conversations")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same conversations")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_seed)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("must be from 1 to 1,000,000")
    return value


def _seed(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = get_core_settings()
    engine = get_engine(settings.resolved_database_url)
    try:
        if settings.demo_mode:
            prepare(settings)  # migrated, with the demo accounts the conversations are spread across
        check_current(engine)
    except SchemaOutdated as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with (
        session_scope(engine) as session,
        tqdm(total=args.count, unit=" conversations", disable=args.quiet) as bar,
    ):
        done = seeding.seed(session, args.count, seed=args.seed, progress=bar.update)  # committed on leaving
    print(
        f"Added {done.conversations:,} conversations ({done.messages:,} messages, {done.handoffs:,} handoffs, "
        f"{done.tags:,} tags, {done.flags:,} flags, {done.feedback:,} feedback) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    return 0
