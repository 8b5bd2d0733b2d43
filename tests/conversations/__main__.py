"""`python -m tests.conversations`: play the conversation suite and print pass rates by category and every failure.

Against a running Keepwell (`make run`; its database and identity secret come from the same `KEEPWELL_*` settings),
or, with `--rasa-bin` and `--rasa-model`, against a fresh one it starts (as the end-to-end tests do) and stops.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from api.settings import get_settings
from tests.conversations.report import dumps, format_failures, format_summary, summarise
from tests.conversations.runner import ConversationResult, Runner
from tests.conversations.suite import CATEGORIES, HALVES, load_suite, smoke_subset


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[Runner]:
    if args.rasa_bin:
        from tests.e2e.conftest import IDENTITY_SECRET, running_system  # starts processes: only when asked

        with tempfile.TemporaryDirectory(prefix="keepwell-conversations-") as data_dir:
            with running_system(args.rasa_bin, Path(args.rasa_model).resolve(), Path(data_dir)) as system:
                with Runner(system.base_url, system.settings.resolved_database_url, IDENTITY_SECRET) as runner:
                    yield runner
        return
    settings = get_settings()
    base_url = args.base_url or f"http://{settings.host}:{settings.port}"
    with Runner(base_url, args.database_url or settings.resolved_database_url, settings.identity_secret) as runner:
        yield runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conversations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=[*HALVES, "all"], default="all")
    parser.add_argument("--category", action="append", choices=CATEGORIES, help="only these categories")
    parser.add_argument("--id", action="append", dest="ids", help="only these conversations")
    parser.add_argument("--smoke", action="store_true", help="only the smoke subset `make test` plays")
    parser.add_argument("--base-url", help="a running gateway (default: KEEPWELL_HOST and KEEPWELL_PORT)")
    parser.add_argument("--database-url", help="its app database (default: KEEPWELL_DATABASE_URL or the data dir's)")
    parser.add_argument("--rasa-bin", help="start a fresh Keepwell with this rasa executable instead")
    parser.add_argument("--rasa-model", default="models/keepwell.tar.gz", help="the model the fresh Keepwell runs")
    parser.add_argument("--json", type=Path, help="also write every turn and the summary to this file")
    parser.add_argument("--quiet", action="store_true", help="no per-conversation progress, no failure list")
    args = parser.parse_args(argv)

    conversations = load_suite(halves=HALVES if args.half == "all" else (args.half,))
    if args.smoke:
        conversations = smoke_subset(conversations)
    if args.category:
        conversations = [c for c in conversations if c.category in args.category]
    if args.ids:
        conversations = [c for c in conversations if c.id in args.ids]
    if not conversations:
        parser.error("no conversation matches")

    def progress(result: ConversationResult) -> None:
        if not args.quiet:
            passed = sum(t.passed for t in result.turns)
            print(f"{result.conversation.id:<22} {passed}/{len(result.turns)}", file=sys.stderr, flush=True)

    started = time.monotonic()
    with _target(args) as runner:
        results = runner.play_all(conversations, progress)
    summary = summarise(results)
    if not args.quiet:
        print(format_failures(results), end="\n\n")
    print(format_summary(summary))
    turns = sum(len(r.turns) for r in results)
    print(f"\n{len(results)} conversations, {turns} turns in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(dumps(results, summary), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
