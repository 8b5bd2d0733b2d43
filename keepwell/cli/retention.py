"""`python -m keepwell retention [--dry-run]`: delete the conversations older than KEEPWELL_RETENTION_DAYS (by last
activity) with their messages, flags, handoffs, feedback and Rasa tracker events. The gateway runs the same once a
day; this is for cron, a first clean-up, or a look at what would go. Exit codes: 0 done (or nothing to do because
retention is off), 1 refused (database not ready), 2 wrong usage."""

import argparse
import sys

from tqdm import tqdm

from keepwell import audit
from keepwell.db import SchemaOutdated, check_current, get_engine, session_scope
from keepwell.models import utcnow
from keepwell.privacy import retention
from keepwell.settings import get_core_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "retention",
        help="delete conversations older than KEEPWELL_RETENTION_DAYS (by last activity), with a progress bar",
        description="Deletes the conversations whose last message is older than KEEPWELL_RETENTION_DAYS days, with "
        "everything that belongs to them, in batches; conversations with an open handoff are kept.",
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    parser.add_argument("--days", type=int, metavar="N", help="use N days instead of KEEPWELL_RETENTION_DAYS (N >= 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_retention)


def _retention(args: argparse.Namespace) -> int:
    settings = get_core_settings()
    days = settings.retention_days if args.days is None else args.days
    if args.days is not None and args.days < 1:
        print("error: --days must be 1 or more", file=sys.stderr)
        return 2
    if days == 0:
        print("Retention is off (KEEPWELL_RETENTION_DAYS is 0 or unset): every conversation is kept.")
        return EXIT_OK
    try:
        engine = get_engine(settings.resolved_database_url)
        check_current(engine)
    except SchemaOutdated as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    tracker_engine = get_engine(settings.resolved_tracker_store_url)
    with tqdm(desc="Deleting", unit=" conversations", disable=args.quiet or args.dry_run) as bar:

        def advance(done: int, due: int) -> None:
            bar.total = due
            bar.update(done - bar.n)

        run = retention.run(engine, tracker_engine, days, utcnow(), dry_run=args.dry_run, progress=advance)
    if not args.dry_run and run.deleted:
        with session_scope(engine) as session:
            audit.record(session, audit.CLI, "retention.run", "conversation", None, run.as_detail(days))
    print(run)
    return EXIT_OK
