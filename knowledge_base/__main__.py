"""Command line: `python -m knowledge_base build [--force] | search "question" [-k N] | stats`.

Paths, model and thresholds come from the KEEPWELL_* settings; --content-dir and --index-dir override them.
Exit codes: 0 success, 1 the knowledge base cannot be built or loaded, 2 bad arguments or settings.
"""

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from keepwell.settings import get_core_settings

from . import from_settings
from .documents import ArticleError
from .engine import KnowledgeBase
from .store import StoreError

SNIPPET_CHARS = 240


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "search":
        if not args.query.strip():
            parser.error("the question must not be empty")
        if args.k is not None and args.k < 1:
            parser.error("-k must be at least 1")

    try:
        settings = get_core_settings()
    except ValidationError as error:
        print(f"error: invalid KEEPWELL_* settings: {error}", file=sys.stderr)
        return 2
    overrides = {
        key: value for key, value in (("kb_content_dir", args.content_dir), ("kb_index_dir", args.index_dir)) if value
    }
    knowledge_base = from_settings(settings.model_copy(update=overrides))
    try:
        if args.command == "build":
            return _build(knowledge_base, args.force)
        if args.command == "search":
            return _search(knowledge_base, args.query, args.k)
        return _stats(knowledge_base)
    except (ArticleError, StoreError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge_base", description="Keepwell's help-centre search.")
    parser.add_argument("--content-dir", type=Path, help="articles folder (default: KEEPWELL_KB_CONTENT_DIR)")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: KEEPWELL_KB_INDEX_DIR)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="build the index, or check that it is up to date")
    build.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    search = commands.add_parser("search", help="search the articles (builds the index first if needed)")
    search.add_argument("query", help="the question, in quotes")
    search.add_argument("-k", type=int, default=None, help="how many articles to show (default: KEEPWELL_KB_TOP_K)")
    commands.add_parser("stats", help="describe the stored index")
    return parser


def _build(knowledge_base: KnowledgeBase, force: bool) -> int:
    report = knowledge_base.build(force=force, progress=True)
    if report.rebuilt:
        print(
            f"Built the index: {report.articles} articles, {report.chunks} chunks in {report.seconds:.1f}s "
            f"-> {knowledge_base.index_dir}"
        )
        print(
            f"Reason: {report.reason}; {report.encoded} rows encoded, {report.reused} reused (generation "
            f"{report.generation})"
        )
    else:
        print(
            f"Index is up to date: {report.articles} articles, {report.chunks} chunks in {knowledge_base.index_dir} "
            "(use --force to rebuild)"
        )
    print(f"Model: {knowledge_base.embedder.name}")
    return 0


def _search(knowledge_base: KnowledgeBase, query: str, k: int | None) -> int:
    report = knowledge_base.build(progress=True)
    if report.rebuilt:
        print(f"(index rebuilt: {report.reason})", file=sys.stderr)
    result = knowledge_base.search(query, k=k)
    for rank, passage in enumerate(result.passages, start=1):
        print(f"{rank}. [{passage.score:.3f}] {passage.title} — {passage.section}")
        print(f"   {passage.section_url}")
        print(textwrap.indent(textwrap.fill(_snippet(passage.text), width=100, break_on_hyphens=False), "   "))
    best = result.best
    if not result.confident:
        best_score = f"{best.score:.3f}" if best else "none"
        print(f"No confident answer (best score {best_score} < threshold {knowledge_base.min_score:.2f}).")
    return 0


def _stats(knowledge_base: KnowledgeBase) -> int:
    for key, value in knowledge_base.stats().items():
        print(f"{key}: {value}")
    return 0


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + " …"


if __name__ == "__main__":
    # A process entry point: make sure no library tries to reach a model hub, before any of them is imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the weight-loading bar; ours is tqdm's own
    sys.exit(main())
