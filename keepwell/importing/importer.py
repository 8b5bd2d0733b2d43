"""An import run: every file validated and written in batches inside the caller's one transaction, with a progress
bar. The run reports every error it finds; the caller commits only when the report has not failed."""

import sys
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session
from tqdm import tqdm

from keepwell.batches import batched
from keepwell.importing.readers import FileProblem, Source, count_rows, rows, sources
from keepwell.importing.report import FileResult, Report, RowError
from keepwell.importing.validation import Validator
from keepwell.importing.writer import write

# Rows validated and written at a time: large enough for the bulk upsert's speed, small enough to keep memory flat.
BATCH_ROWS = 2000


def import_files(
    session: Session,
    paths: list[Path],
    *,
    kind: str | None = None,
    skip_bad_rows: bool = False,
    progress: bool = False,
    today: date | None = None,
) -> Report:
    """Validate and write the files `paths` name (folders stand for their files), accounts first.

    Rows are written as they pass, in `session`'s transaction, until the first error: from then on the run only
    validates, to report every error, and the caller must roll back. With `skip_bad_rows` bad rows (and unreadable
    files) are reported and left out, and the rest is written.

    Args:
        kind: the kind of every file, instead of reading it from the file names.
        progress: show a progress bar on stderr (rows done, rate, time left).
        today: the day the accounts' current terms are taken on (default: the real today).

    Raises:
        UnknownKind: `kind` is not a record kind.
    """
    found, problems = sources(paths, kind)
    report = Report(errors=list(problems), skip_bad_rows=skip_bad_rows)
    sizes: dict[Source, int] = {}
    for source in found:
        try:
            sizes[source] = count_rows(source)
        except FileProblem as problem:
            report.errors.append(problem.error)
            report.files.append(FileResult(source.name, source.kind.name))
    validator = Validator(session)
    with tqdm(
        total=sum(sizes.values()), unit=" rows", file=sys.stderr, disable=not progress, dynamic_ncols=True
    ) as bar:
        for source, size in sizes.items():
            bar.set_description(source.name)
            result = FileResult(source.name, source.kind.name)
            report.files.append(result)
            try:
                _import_file(session, source, validator, report, result, bar, today)
            except FileProblem as problem:
                report.errors.append(problem.error)
            bar.update(max(size - result.rows, 0))  # lines that were not rows (blank, multi-line cells)
    return report


def _import_file(
    session: Session,
    source: Source,
    validator: Validator,
    report: Report,
    result: FileResult,
    bar: tqdm,  # type: ignore[type-arg]
    today: date | None,
) -> None:
    for batch in batched(rows(source), BATCH_ROWS):
        items = [(line, data) for line, data in batch if not isinstance(data, RowError)]
        report.errors.extend(data for _, data in batch if isinstance(data, RowError))
        accepted, errors = validator.check(source.kind, source.name, items, source.position)
        report.errors.extend(errors)
        result.rows += len(batch)
        if not report.failed:
            result.written += write(session, source.kind.name, accepted, today=today)
        bar.update(len(batch))
