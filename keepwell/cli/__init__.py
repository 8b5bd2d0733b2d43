"""`python -m keepwell`: operating Keepwell from the command line. Each command group lives in its own module
with a `register(commands)` that adds its subcommands and sets `func` on the parsed arguments."""

import argparse
import sys

from keepwell.cli import db, generate, imports, kpis, playbooks, recompute, retention, seed_conversations, users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keepwell", description=__doc__)
    commands = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    for group in (db, users, kpis, imports, generate, recompute, playbooks, retention, seed_conversations):
        group.register(commands)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
