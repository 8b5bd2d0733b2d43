"""`python -m keepwell generate --accounts N --weeks W --out DIR`: a generated book of business (accounts,
contacts, subscriptions, weekly usage with trends, tickets, surveys, onboarding) as files `import` reads. The same
--seed and --end always give the same files. Exit codes: 0 written, 2 wrong usage."""

import argparse
import time
from datetime import date
from pathlib import Path

from keepwell.importing.world import generate


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "generate",
        help="write a generated book of business as importable CSV files",
        description="Write accounts across plans, sizes and stages with their contacts, subscription terms (some "
        "changed, a few cancelled), weekly usage (steady, growing or declining), tickets, CSAT and NPS answers and "
        "onboarding steps, as CSV files for `python -m keepwell import DIR`.",
    )
    parser.add_argument("--accounts", type=_positive, required=True, metavar="N", help="how many accounts")
    parser.add_argument("--weeks", type=_positive, required=True, metavar="W", help="weeks of usage history")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write (created)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed (and --end) gives the same files")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the last week ends on the Sunday on or before this day (default: today)",
    )
    parser.set_defaults(func=_generate)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    world = generate(args.out, args.accounts, args.weeks, seed=args.seed, end=args.end or date.today())
    for kind, path in world.files.items():
        print(f"{path}: {world.rows[kind]:,} {kind} rows")
    print(f"Generated in {time.perf_counter() - started:.1f} s; import with: python -m keepwell import {args.out}")
    return 0
