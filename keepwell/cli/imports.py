"""`python -m keepwell import PATH…`: a company's own accounts, contacts, subscriptions, usage, tickets, survey answers
and onboarding steps from CSV or JSON files (keepwell/importing/SCHEMA.md). Exit codes: 0 imported, 1 refused (a
file had errors and nothing was imported, or the database is not ready), 2 wrong usage."""

import argparse
import sys
from datetime import date
from pathlib import Path

from keepwell import audit
from keepwell.db import SchemaOutdated, check_current, get_engine, session_factory
from keepwell.importing import KINDS, UnknownKind
from keepwell.importing.importer import import_files
from keepwell.settings import get_core_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "import",
        help="import accounts, subscriptions, usage ... from CSV or JSON files",
        description="Import CSV or JSON files named after their kind (accounts.csv, usage-2025.json ...; kinds: "
        f"{', '.join(KINDS)}), all in one transaction: a file with errors imports nothing unless --skip-bad-rows. "
        "Re-importing the same files changes nothing. Columns: keepwell/importing/SCHEMA.md.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a file, or a folder of them")
    parser.add_argument("--kind", choices=list(KINDS), help="the kind of every file, whatever its name")
    parser.add_argument(
        "--skip-bad-rows", action="store_true", help="import the valid rows and report the bad ones (exit 0)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day the accounts' current terms are read on (default: today)",
    )
    parser.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    try:
        engine = get_engine(get_core_settings().resolved_database_url)
        check_current(engine)
    except (SchemaOutdated, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    progress = not args.quiet and sys.stderr.isatty()
    with session_factory(engine)() as session:
        try:
            report = import_files(
                session,
                args.paths,
                kind=args.kind,
                skip_bad_rows=args.skip_bad_rows,
                progress=progress,
                today=args.today,
            )
        except UnknownKind as error:  # argparse's choices catch this first; kept for callers of the function
            print(f"error: {error}", file=sys.stderr)
            return EXIT_REFUSED
        if report.failed:
            session.rollback()
            print(report.summary(), file=sys.stderr)
            return EXIT_REFUSED
        written = {result.source: result.written for result in report.files}
        detail = {"files": written, "errors": len(report.errors), "skip_bad_rows": args.skip_bad_rows}
        audit.record(session, audit.CLI, "data.import", "import", None, detail)
        session.commit()
    print(report.summary(), file=sys.stderr if report.errors else sys.stdout)
    return EXIT_OK
