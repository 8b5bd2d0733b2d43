"""What an import found: the rows refused (file, line or item, field, reason) and what each file wrote."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

# A CSV's line number (the header is line 1) or a JSON array's item index (0 first, as the API's callers count).
Position = Literal["line", "item"]


@dataclass(frozen=True)
class RowError:
    """Why a row (or a whole file, when `line` is None) was refused.

    `field` names the column at fault; None when the row as a whole is (a duplicate).
    """

    source: str
    line: int | None
    field: str | None
    reason: str
    position: Position = "line"

    def __str__(self) -> str:
        where = [self.source]
        if self.line is not None:
            where.append(f"{self.position} {self.line}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.reason}"

    def as_dict(self) -> dict[str, str | int | None]:
        return {self.position: self.line, "field": self.field, "reason": self.reason}


def errors_of(error: ValidationError, source: str, line: int, position: Position) -> Iterator[RowError]:
    """Pydantic's complaints about one row, one RowError each, with the value it got when that helps."""
    for problem in error.errors(include_url=False):
        field_name = ".".join(str(part) for part in problem["loc"]) or None
        reason = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        if problem["type"] not in ("missing", "extra_forbidden") and isinstance(got, str | int | float):
            reason += f" (got {str(got)[:40]!r})"
        yield RowError(source, line, field_name, reason, position)


@dataclass
class FileResult:
    """One file of a run: its kind, the rows it held and the rows written (bad rows skipped are not written)."""

    source: str
    kind: str
    rows: int = 0
    written: int = 0


@dataclass
class Report:
    """A whole import run. `failed` when any row or file was refused and bad rows were not to be skipped."""

    files: list[FileResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skip_bad_rows: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.errors) and not self.skip_bad_rows

    def summary(self, limit: int = 50) -> str:
        """The report for people: per file what was written, then the errors (the first `limit` of them)."""
        lines = []
        for result in self.files:
            written = 0 if self.failed else result.written
            lines.append(f"{result.source}: {result.kind}, {result.rows:,} rows, {written:,} written")
        if self.errors:
            verdict = "skipped" if self.skip_bad_rows else "nothing was imported"
            lines.append(f"{len(self.errors):,} error(s), {verdict}:")
            lines += [f"  {error}" for error in self.errors[:limit]]
            if len(self.errors) > limit:
                lines.append(f"  … and {len(self.errors) - limit:,} more")
        return "\n".join(lines)
