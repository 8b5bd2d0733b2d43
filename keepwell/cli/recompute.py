"""`python -m keepwell recompute`: every account's segments, health score and churn signals on a day, then the
playbooks (tasks, webhook calls) once those are committed. Exit codes: 0 done, 1 refused (database not ready, a
scorecards, segments or playbooks file with errors), 2 wrong usage."""

import argparse
import sys
import time
from collections import Counter
from datetime import date

from keepwell import playbooks, recompute, scorecards, segmentation
from keepwell.db import SchemaOutdated, check_current, get_engine, session_scope
from keepwell.settings import get_core_settings
from keepwell.yamlfile import ConfigError

EXIT_OK, EXIT_REFUSED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "recompute",
        help="segments and health scores of every account (a snapshot per account and day), with a progress bar",
        description="Reads every account's facts on the day, derives its segments (keepwell/segments.yml or "
        "KEEPWELL_SEGMENTS_PATH), scores it with the scorecard that fits (keepwell/scorecards.yml or "
        "KEEPWELL_SCORECARDS_PATH) and writes the day's health snapshots; running again the same day replaces them.",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the day to score (default: today)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-playbooks", action="store_true", help="score and detect only: no CSM tasks, no webhook calls"
    )
    parser.set_defaults(func=_recompute)


def _recompute(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        settings = get_core_settings()
        book = scorecards.load(settings.scorecards_path)
        rules = segmentation.load(settings.segments_path)
        playbook_config = None if args.no_playbooks else playbooks.load()
        engine = get_engine(settings.resolved_database_url)
        check_current(engine)
        with session_scope(engine) as session:
            run = recompute.recompute(
                session, args.as_of or date.today(), book=book, rules=rules, progress=not args.quiet
            )
            session.commit()  # scores and signals stand whatever the webhooks do
            ran = None if playbook_config is None else playbooks.run(session, run.as_of, playbook_config)
    except (ConfigError, SchemaOutdated, playbooks.PlaybookError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    bands = Counter(h.band for h in run.health.values())
    print(
        f"Recomputed {len(run.accounts)} accounts as of {run.as_of} in {time.perf_counter() - started:.1f} s: "
        f"{bands['green']} green, {bands['yellow']} yellow, {bands['red']} red."
    )
    print(run.signal_summary)
    if ran is not None:
        print(ran)
        if ran.calls.failed:
            # Stored and listed on the console's Success desk; the next run tries them again.
            print(f"warning: {ran.calls.failed} webhook calls failed; see /console/success", file=sys.stderr)
    return EXIT_OK
