"""Command line: `python -m benchmarks nlu|retrieval|kb|oos|crossval|engine|inbox|all ...`; see `--help` and README.md.

Each run writes `benchmarks/results/<dataset>-<kind>.md` (smoke runs: `benchmarks/work/results/`) and prints its table.
Exit codes: 0 success, 1 a benchmark failed, 2 bad arguments.
"""

import argparse
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .datasets import DEFAULT_OOS_LABEL, Dataset, DatasetError, load_dataset, smoke_subset
from .oos import OOS_DATASETS, OosDataset, load_oos_dataset, oos_smoke_subset
from .published import published_notes, published_rows
from .report import BenchmarkResult, RunInfo, git_commit, machine_description, table, write_report

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASETS_ROOT = REPO_ROOT.parent / "shared" / "datasets"
DEFAULT_WORK_DIR = REPO_ROOT / "benchmarks" / "work"
DEFAULT_RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_CONFIG = REPO_ROOT / "config.yml"
# The labelled questions are written against the shipped articles, so those are searched whatever the settings say.
KB_CONTENT = REPO_ROOT / "knowledge_base" / "content"
KB_LABELLED = REPO_ROOT / "tests" / "knowledge_base" / "labelled_questions.yml"
KB_UNANSWERABLE = REPO_ROOT / "tests" / "knowledge_base" / "unanswerable_questions.yml"
KB_TYPOS = REPO_ROOT / "tests" / "knowledge_base" / "typo_questions.yml"
BUILT_IN_DATASETS = ("banking77", "clinc150")

if TYPE_CHECKING:
    from keepwell.settings import CoreSettings
    from knowledge_base import SentenceTransformerEmbedder


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks the arguments ask for and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("nlu", "oos", "crossval", "all") and not args.rasa_bin:
        parser.error(f"{args.command} needs --rasa-bin (the Rasa environment's `rasa` executable)")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.command != "all":
        return _run(args, argv)
    started, commands, failed = time.perf_counter(), _all_commands(args), 0
    for sub_argv in commands:
        failed += _run(parser.parse_args(sub_argv), sub_argv)
    minutes, seconds = divmod(round(time.perf_counter() - started), 60)
    print(f"\nAll benchmarks: {len(commands) - failed} of {len(commands)} succeeded in {minutes} min {seconds} s.")
    return 1 if failed else 0


def _all_commands(args: argparse.Namespace) -> list[list[str]]:
    """The commands `all` stands for, each with the options given to `all` that apply to it."""
    shared = []
    for option, value, default in (
        ("--work-dir", args.work_dir, DEFAULT_WORK_DIR),
        ("--datasets-root", args.datasets_root, DEFAULT_DATASETS_ROOT),
        ("--results-dir", args.results_dir, None),
    ):
        shared += [option, str(value)] if value != default else []
    shared += ["--smoke"] if args.smoke else []
    nlu_options = ["--rasa-bin", str(args.rasa_bin)]
    nlu_options += ["--epochs", str(args.epochs)] if args.epochs else []
    nlu_options += ["--config", str(args.config)] if args.config != DEFAULT_CONFIG else []
    commands = [["nlu", "--dataset", name, *nlu_options, *shared] for name in BUILT_IN_DATASETS]
    commands += [["retrieval", "--dataset", name, *shared] for name in BUILT_IN_DATASETS]
    commands.append(["kb", *shared])
    commands.append(["engine", *shared])
    commands.append(["inbox", *shared])
    commands += [["oos", "--dataset", name, *nlu_options, *shared] for name in OOS_DATASETS]
    return commands


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """One benchmark: run it, write its report, print its table. Returns 0, or 1 if it failed."""
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    started_at, started = datetime.now().astimezone(), time.perf_counter()
    machine, commit = machine_description(), git_commit(REPO_ROOT)
    print(f"\n=== {command}", flush=True)
    try:
        result = _benchmark(args)()
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # one failed benchmark must not stop `all` from running the others
        traceback.print_exc()
        print(f"error: {command} failed: {error}", file=sys.stderr)
        return 1
    run = RunInfo(started_at, time.perf_counter() - started, command, machine, commit)
    # Published rows belong to the built-in datasets only, and never to a smoke slice of them.
    published_key = getattr(args, "dataset", None) if not args.smoke else None
    published = published_rows(published_key) if published_key in BUILT_IN_DATASETS else []
    notes = published_notes(published_key) if published_key in BUILT_IN_DATASETS else []
    results_dir = args.results_dir or (args.work_dir / "results" if args.smoke else DEFAULT_RESULTS_DIR)
    path = write_report(result, published, run, results_dir, notes)
    print(f"\n{result.title}\n\n{table([*result.rows, *published])}\n")
    print(f"Report: {path} (wall time {run.seconds:.0f}s)", flush=True)
    return 0


def _benchmark(args: argparse.Namespace) -> Callable[[], BenchmarkResult]:
    """The benchmark to run, not yet started (datasets and models load when it is called)."""
    work_dir: Path = args.work_dir
    if args.command == "nlu":
        from .rasa_nlu import RasaEnvironment, run_nlu_benchmark

        rasa = RasaEnvironment(Path(args.rasa_bin), REPO_ROOT, dict(os.environ))
        return lambda: run_nlu_benchmark(
            _dataset(args), rasa, args.config, work_dir / "nlu" / _dataset_key(args), epochs=args.epochs,
            encoder_cache=work_dir / "encoders" if args.reuse_encoder else None,
        )  # fmt: skip
    if args.command == "oos":
        from .oos_benchmark import run_oos_benchmark
        from .rasa_nlu import RasaEnvironment

        rasa = RasaEnvironment(Path(args.rasa_bin), REPO_ROOT, dict(os.environ))
        return lambda: run_oos_benchmark(
            _oos_dataset(args), _embedder(), rasa, args.config, work_dir / "oos" / _dataset_key(args),
            work_dir / "embeddings", epochs=args.epochs, levers=args.levers,
            encoder_cache=work_dir / "encoders" if args.reuse_encoder else None,
        )  # fmt: skip
    if args.command == "crossval":
        from .crossval import run_crossval
        from .rasa_nlu import RasaEnvironment

        rasa = RasaEnvironment(Path(args.rasa_bin), REPO_ROOT, dict(os.environ))
        return lambda: run_crossval([REPO_ROOT / "bot" / "nlu"], rasa, args.config, work_dir / "crossval")
    if args.command == "engine":
        from .engine_benchmark import run_engine_benchmark

        accounts, weeks = (200, 8) if args.smoke else (args.accounts, args.weeks)
        return lambda: run_engine_benchmark(work_dir, accounts, weeks, seed=args.seed)
    if args.command == "inbox":
        from .inbox_benchmark import run_inbox_benchmark

        count, repeats, transcripts = (300, 3, 10) if args.smoke else (args.conversations, 15, 60)
        return lambda: run_inbox_benchmark(work_dir, count, repeats, transcripts, seed=args.seed)
    if args.command == "retrieval":
        from .retrieval import run_faq_benchmark

        return lambda: run_faq_benchmark(_dataset(args), _embedder(), work_dir, args.latency_sample)
    from .kb_benchmark import run_kb_benchmark

    def kb() -> BenchmarkResult:
        settings = _core_settings()
        return run_kb_benchmark(
            _embedder(), KB_CONTENT, KB_LABELLED, KB_UNANSWERABLE, work_dir, settings.kb_min_score, typo_path=KB_TYPOS
        )

    return kb


def _dataset(args: argparse.Namespace) -> Dataset:
    dataset = load_dataset(args.dataset, args.datasets_root, args.oos_label)
    return smoke_subset(dataset) if args.smoke else dataset


def _oos_dataset(args: argparse.Namespace) -> OosDataset:
    data = load_oos_dataset(args.dataset, args.datasets_root, args.oos_label)
    return oos_smoke_subset(data) if args.smoke else data


def _dataset_key(args: argparse.Namespace) -> str:
    name = args.dataset if args.dataset in BUILT_IN_DATASETS else Path(args.dataset).resolve().name
    return f"{name}-smoke" if args.smoke else name


def _core_settings() -> "CoreSettings":
    from keepwell.settings import CoreSettings

    # Only the knowledge-base fields are read here; the identity-secret check guards servers, not a benchmark.
    return CoreSettings(demo_mode=True)


def _embedder() -> "SentenceTransformerEmbedder":
    from knowledge_base import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(_core_settings().resolved_embedding_model_path)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--datasets-root",
        type=Path,
        default=DEFAULT_DATASETS_ROOT,
        help="folder holding clinc150/, banking77/ and oos-robustness/",
    )
    common.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="caches, models, logs (git-ignored)")
    common.add_argument(
        "--results-dir", type=Path, default=None, help="where reports go (default: benchmarks/results; smoke: work dir)"
    )
    common.add_argument("--smoke", action="store_true", help="a tiny slice (5 intents) to check the harness quickly")
    dataset = argparse.ArgumentParser(add_help=False)
    dataset.add_argument(
        "--dataset", required=True, help="clinc150, banking77, or a folder with train.csv [val.csv] test.csv"
    )
    dataset.add_argument(
        "--oos-label",
        default=DEFAULT_OOS_LABEL,
        help=f"out-of-scope label of a CSV dataset (default {DEFAULT_OOS_LABEL})",
    )
    rasa = argparse.ArgumentParser(add_help=False)
    rasa.add_argument("--rasa-bin", help="the `rasa` executable of the Python 3.10 environment (required)")
    rasa.add_argument("--epochs", type=int, default=None, help="train a copy of config.yml with every epochs: set to N")
    rasa.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="Rasa config (default: config.yml)")
    rasa.add_argument(
        "--reuse-encoder",
        action="store_true",
        help="keep the tuned encoder in <work-dir>/encoders/<dataset> and reuse it while its fingerprint matches "
        "(score-side changes without tuning again; tuning time is then not counted)",
    )  # fmt: skip

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure Keepwell against published results."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("nlu", parents=[common, dataset, rasa], help="Rasa NLU (config.yml) on an intent dataset")
    retrieval = commands.add_parser(
        "retrieval", parents=[common, dataset], help="the knowledge-base engine as an FAQ matcher on an intent dataset"
    )
    retrieval.add_argument(
        "--latency-sample", type=int, default=300, help="test queries timed one at a time (default 300)"
    )
    commands.add_parser("kb", parents=[common], help="the knowledge base on Keepwell's labelled questions, beside BM25")
    oos = commands.add_parser(
        "oos", parents=[common, dataset, rasa], help=f"out-of-scope detection beside a nearest-neighbour baseline "
        f"({', '.join(OOS_DATASETS)} under <datasets-root>/oos-robustness/, or a folder)",
    )  # fmt: skip
    oos.add_argument("--levers", action="store_true", help="also measure out-of-scope score levers (not shipped)")
    commands.add_parser(
        "crossval", parents=[common, rasa], help="the bot's own bot/nlu in 5-fold cross-validation, and the "
        "FallbackClassifier threshold the product's rule chooses on it",
    )  # fmt: skip
    engine = commands.add_parser(
        "engine", parents=[common], help="the customer-success engine: generate, import and KPIs on a large book"
    )
    engine.add_argument("--accounts", type=int, default=10_000, help="accounts in the world (default 10,000)")
    engine.add_argument("--weeks", type=int, default=52, help="weeks of usage per account (default 52)")
    engine.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    inbox = commands.add_parser(
        "inbox",
        parents=[common],
        help="the console's inbox (every filter, combined) and transcript on many conversations",
    )
    inbox.add_argument("--conversations", type=int, default=10_000, help="conversations to seed (default 10,000)")
    inbox.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    commands.add_parser(
        "all",
        parents=[common, rasa],
        help="every benchmark above on clinc150 and banking77, oos on each oos set, engine and inbox",
    )
    for name in ("retrieval", "kb", "engine", "inbox"):
        commands.choices[name].set_defaults(epochs=None, rasa_bin=None)
    return parser


if __name__ == "__main__":
    # A process entry point: make sure no library tries to reach a model hub, before any of them is imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    sys.exit(main())
