"""Import files: which kind a file holds (by its name, or as told), and its rows read from CSV or JSON, numbered as
people count them (a CSV's line with the header as line 1; a JSON array's item from 0)."""

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keepwell.importing.report import Position, RowError
from keepwell.importing.rows import FEATURE_PREFIX, KINDS, Kind, UnknownKind, kind_named

SUFFIXES = (".csv", ".json")
_CHUNK = 1 << 20


class FileProblem(Exception):
    """A file that cannot be read at all (wrong encoding, not JSON, missing columns): nothing in it is imported."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class Source:
    """A file to import and the kind of its rows."""

    path: Path
    kind: Kind

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def position(self) -> Position:
        return "item" if self.path.suffix.lower() == ".json" else "line"


def sources(paths: list[Path], kind: str | None = None) -> tuple[list[Source], list[RowError]]:
    """The files `paths` name (a folder stands for its .csv and .json files), in import order: accounts first, then
    the kinds that name them. Files that are missing, of another format or of no known kind come back as errors."""
    found: list[Source] = []
    errors: list[RowError] = []
    forced = kind_named(kind) if kind is not None else None
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not files:
                errors.append(RowError(str(path), None, None, "holds no .csv or .json files"))
        elif path.is_file():
            files = [path]
        else:
            errors.append(RowError(str(path), None, None, "no such file or folder"))
            continue
        for file in files:
            if file.suffix.lower() not in SUFFIXES:
                errors.append(RowError(file.name, None, None, "is neither .csv nor .json"))
                continue
            try:
                found.append(Source(file, forced or _kind_of(file)))
            except UnknownKind as error:
                errors.append(RowError(file.name, None, None, f"{error} (or give --kind)"))
    order = list(KINDS)
    found.sort(key=lambda source: (order.index(source.kind.name), source.path.name))
    return found, errors


def _kind_of(path: Path) -> Kind:
    """`usage.csv` and `usage-2025-06.csv` hold usage; `support_tickets.json` tickets."""
    return kind_named(path.stem.split("-", 1)[0].lower())


def count_rows(source: Source) -> int:
    """About how many rows the file holds (its lines less the header), after checking that it is UTF-8 text.

    Raises:
        FileProblem: the file is not UTF-8 (the error names the line of the first bad byte).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    with source.path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk.count(b"\n", 0, error.start) + 1
                byte = chunk[error.start : error.start + 1].hex()
                raise FileProblem(
                    RowError(source.name, line, None, f"is not UTF-8 text (byte 0x{byte}); save it as UTF-8")
                ) from error
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            reason = "is not UTF-8 text (it ends mid-character)"
            raise FileProblem(RowError(source.name, lines + 1, None, reason)) from error
    return max(lines - (1 if source.position == "line" else 0), 0)


def rows(source: Source) -> Iterator[tuple[int, Any]]:
    """The file's rows with their line (CSV) or item (JSON) number; a row that cannot even be split into fields comes
    as a RowError in its place.

    Raises:
        FileProblem: the file as a whole is unreadable (not JSON, a CSV header that lacks or misspells columns).
    """
    if source.position == "item":
        yield from _json_rows(source)
    else:
        yield from _csv_rows(source)


def _csv_rows(source: Source) -> Iterator[tuple[int, Any]]:
    # utf-8-sig: spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
    with source.path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = [name.strip() for name in next(reader, [])]
        _check_header(source, header)
        # `feature:<key>` columns (usage) are gathered into the row's `features`; the others are fields of their own.
        features = [
            (i, name.removeprefix(FEATURE_PREFIX)) for i, name in enumerate(header) if _is_feature(source, name)
        ]
        fields = [(i, name) for i, name in enumerate(header) if not _is_feature(source, name)]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            line = reader.line_num
            if len(cells) != len(header):
                reason = f"has {len(cells)} cells, the header has {len(header)}"
                yield line, RowError(source.name, line, None, reason)
                continue
            # An empty cell is an absent value: the column's default applies, or "Field required".
            row: dict[str, Any] = {name: cells[i] for i, name in fields if cells[i].strip()}
            if features:
                row["features"] = {name: cells[i] for i, name in features if cells[i].strip()} or None
            yield line, row


def _check_header(source: Source, header: list[str]) -> None:
    if not header:
        raise FileProblem(RowError(source.name, 1, None, "is empty (a CSV file starts with a header line)"))
    columns = set(source.kind.columns)
    missing = [name for name in source.kind.required_columns if name not in header]
    unknown = [name for name in header if name not in columns and not _is_feature(source, name)]
    doubled = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(name) for name in unknown)}")
    if doubled:
        problems.append(f"column(s) given twice: {', '.join(doubled)}")
    if problems:
        known = ", ".join(source.kind.columns)
        reason = f"{'; '.join(problems)} (a {source.kind.name} file has {known})"
        raise FileProblem(RowError(source.name, 1, None, reason))


def _is_feature(source: Source, name: str) -> bool:
    return source.kind.name == "usage" and name.startswith(FEATURE_PREFIX) and len(name) > len(FEATURE_PREFIX)


def _json_rows(source: Source) -> Iterator[tuple[int, Any]]:
    try:
        items = json.loads(source.path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise FileProblem(RowError(source.name, None, None, f"is not valid JSON: {error}")) from error
    if not isinstance(items, list):
        raise FileProblem(RowError(source.name, None, None, "must hold a JSON array of objects, one per row"))
    yield from enumerate(items)
