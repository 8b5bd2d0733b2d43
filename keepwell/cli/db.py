"""`python -m keepwell db ...`: migrate the app database (and seed the demo in demo mode), show its revision, and
write a new migration after a model change."""

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

from alembic import command

from keepwell import migrations
from keepwell.bootstrap import prepare
from keepwell.db import current_revision, get_engine, make_engine, upgrade
from keepwell.settings import get_core_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = commands.add_parser("db", help="the app database")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("upgrade", help="apply every pending migration; in demo mode, seed the demo world")
    up.set_defaults(func=_upgrade)
    current = actions.add_parser("current", help="print the database's revision (exit status 1 when not at head)")
    current.set_defaults(func=_current)
    revision = actions.add_parser(
        "revision", help="for developers: write a migration for what the models changed since the latest one"
    )
    revision.add_argument("-m", "--message", required=True, help="what the change does, e.g. 'add customer notes'")
    revision.set_defaults(func=_revision)


def _upgrade(_args: argparse.Namespace) -> int:
    prepared = prepare(get_core_settings())
    print(f"Database ready ({prepared.customers_seeded} demo customers seeded).")
    return 0


def _current(_args: argparse.Namespace) -> int:
    revision, head = current_revision(get_engine(get_core_settings().resolved_database_url)), migrations.head()
    if revision == head:
        print(f"{revision} (head)")
        return 0
    print(f"{revision or 'none'} (the code needs {head}: run `python -m keepwell db upgrade`)")
    return 1


def _revision(args: argparse.Namespace) -> int:
    # Compared against a scratch database migrated to head, never your own: the new revision then holds exactly
    # what the models changed, whatever state your database is in.
    empty = False

    def _skip_empty(_context: Any, _revision: Any, directives: list[Any]) -> None:
        nonlocal empty
        if directives[0].upgrade_ops.is_empty():
            empty = True
            directives[:] = []

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            upgrade(engine)
            with engine.begin() as connection:
                scripts = command.revision(
                    migrations.config(connection),
                    message=args.message,
                    autogenerate=True,
                    rev_id=_next_revision_id(migrations.head()),
                    process_revision_directives=_skip_empty,
                )
        finally:
            engine.dispose()
    if empty:
        print("The models and the migrations agree: no revision written.")
        return 1
    written = scripts if isinstance(scripts, list) else [scripts]
    for script in written:
        if script is not None:
            print(f"Wrote {script.path}: review it (SQLite batch steps, data to carry over), then test it.")
    return 0


def _next_revision_id(head: str) -> str:
    """The number after the head's: ids start with four digits, maybe followed by a name ("0004_scorecards")."""
    number = re.match(r"\d+", head)
    if number is None:
        raise ValueError(f"the head revision {head!r} does not start with a number")
    return f"{int(number.group()) + 1:04d}"
