"""`python -m keepwell users …`: console accounts from the command line (the first admin, a locked-out admin).

Passwords come from a prompt or, for scripts, from standard input (`--password-stdin`); never from an argument,
which other users of the machine could read in the process list. Every change is audited with the actor "cli".
Exit codes: 0 done, 1 refused (unknown account, taken email, weak password, last admin, database not ready),
2 wrong usage.
"""

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from keepwell import audit, staff
from keepwell.db import get_engine, session_scope
from keepwell.settings import get_core_settings
from keepwell.staff import StaffError, StaffView

EXIT_OK, EXIT_REFUSED = 0, 1


class _Refused(Exception):
    """Stops a command with a message and exit code 1."""


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = commands.add_parser("users", help="console accounts (admins and CSMs)")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    create = actions.add_parser("create", help="create an account (the password is asked for)")
    create.add_argument("email")
    create.add_argument("--role", choices=staff.ROLES, required=True)
    create.add_argument("--name", default="", help="display name, shown to customers when this person replies")
    _password_source(create)
    create.set_defaults(func=_create)

    listing = actions.add_parser("list", help="list every account")
    listing.set_defaults(func=_list)

    for name, func, text in (
        ("deactivate", _deactivate, "refuse the account's sign-ins and end its sessions at once"),
        ("reactivate", _reactivate, "let a deactivated account sign in again"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("email")
        action.set_defaults(func=func)

    set_password = actions.add_parser("set-password", help="set a new password and end the account's sessions")
    set_password.add_argument("email")
    _password_source(set_password)
    set_password.set_defaults(func=_set_password)


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


def _create(args: argparse.Namespace) -> int:
    def run(session: Session) -> str:
        password = _read_password(args.password_stdin)
        user = staff.create(session, args.email, password, role=args.role, display_name=args.name)
        audit.record(session, audit.CLI, "user.create", "user", user.id, {"email": user.username, "role": user.role})
        return f"Created {staff.ROLE_LABELS[user.role]} account {user.username}."

    return _run(run)


def _list(_args: argparse.Namespace) -> int:
    def run(session: Session) -> str:
        users = staff.list_staff(session)
        if not users:
            return "No console accounts yet. Create one with: python -m keepwell users create EMAIL --role admin"
        rows = [("EMAIL", "NAME", "ROLE", "STATUS", "LAST SIGN-IN")]
        for user in users:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
            status = "active" if user.active else "deactivated"
            rows.append((user.username, user.display_name or "-", user.role, status, last))
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
        return "\n".join(line.rstrip() for line in lines)

    return _run(run)


def _deactivate(args: argparse.Namespace) -> int:
    return _change(args.email, staff.deactivate, "user.deactivate", "Deactivated {email}; its sessions have ended.")


def _reactivate(args: argparse.Namespace) -> int:
    return _change(args.email, staff.reactivate, "user.reactivate", "Reactivated {email}.")


def _set_password(args: argparse.Namespace) -> int:
    def run(session: Session) -> str:
        user = _find(session, args.email)
        password = _read_password(args.password_stdin)
        user = staff.set_password(session, user.id, password)
        audit.record(session, audit.CLI, "user.password_reset", "user", user.id, {"email": user.username})
        return f"Password of {user.username} changed; its sessions have ended."

    return _run(run)


def _change(email: str, change: Callable[[Session, int], StaffView], action: str, done: str) -> int:
    def run(session: Session) -> str:
        user = change(session, _find(session, email).id)
        audit.record(session, audit.CLI, action, "user", user.id, {"email": user.username})
        return done.format(email=user.username)

    return _run(run)


def _find(session: Session, email: str) -> StaffView:
    user = staff.get_by_email(session, email)
    if user is None:
        raise _Refused(f"There is no account for {email.strip()}.")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise _Refused("No password on standard input.")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise _Refused("The two passwords differ; nothing was changed.")
    staff.check_password(password)
    return password


def _run(command: Callable[[Session], str]) -> int:
    """Run a command in one transaction: everything is written, or nothing (and a message says why)."""
    try:
        with _session() as session:
            message = command(session)
    except (StaffError, _Refused) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except ValidationError as error:
        problems = "; ".join(str(problem["msg"]) for problem in error.errors())
        print(f"error: the settings are not usable: {problems}", file=sys.stderr)
        return EXIT_REFUSED
    except DBAPIError as error:
        print(
            f"error: the app database is not ready ({type(error.orig).__name__}). "
            "Run `python -m keepwell db upgrade` first, and check KEEPWELL_DATABASE_URL.",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    except (KeyboardInterrupt, EOFError):
        print("\nerror: cancelled; nothing was changed.", file=sys.stderr)
        return EXIT_REFUSED
    print(message)
    return EXIT_OK


@contextmanager
def _session() -> Iterator[Session]:
    with session_scope(get_engine(get_core_settings().resolved_database_url)) as session:
        yield session
