"""`python -m keepwell playbooks check|run`: validate a playbooks file, or detect churn signals and run the
playbooks now (what `recompute` does after the health scores). Exit codes: 0 done, 1 refused (an invalid file, the
database not ready), 2 wrong usage."""

import argparse
import sys
from datetime import date
from pathlib import Path

from keepwell import playbooks, signals
from keepwell.db import SchemaOutdated, check_current, get_engine, session_scope
from keepwell.settings import get_core_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("playbooks", help="check the playbooks file, or run signals and playbooks now")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate a playbooks file (default: KEEPWELL_PLAYBOOKS_FILE or the bundled one)"
    )
    check.add_argument("path", nargs="?", type=Path, help="the YAML file to check")
    check.set_defaults(func=_check)
    run = actions.add_parser("run", help="detect churn signals, then fire the playbooks (tasks, webhook calls)")
    run.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the day to run as (default: today)")
    run.set_defaults(func=_run)


def _check(args: argparse.Namespace) -> int:
    try:
        config = playbooks.load(args.path)
    except playbooks.PlaybookError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{len(config.playbooks)} playbooks: " + ", ".join(p.id for p in config.playbooks))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    today = args.date or date.today()
    try:
        config = playbooks.load()
        engine = get_engine(get_core_settings().resolved_database_url)
        check_current(engine)
        with session_scope(engine) as session:
            detected = signals.detect_all(session, today)
            session.commit()  # the signals stand whatever the webhooks do
            ran = playbooks.run(session, today, config)
    except (playbooks.PlaybookError, SchemaOutdated) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(detected)
    print(ran)
    return EXIT_OK if ran.calls.failed == 0 else EXIT_REFUSED
