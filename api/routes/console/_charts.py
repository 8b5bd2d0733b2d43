"""Charts as the console pages hand them over: one spec per chart that the page's script draws (Chart.js, vendored
under /static/vendor), the table under it and its CSV download all read, so the three always show the same numbers."""

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi.responses import Response

from api.routes.console._pages import NO_STORE

ChartType = Literal["bar", "stacked", "hbar", "line", "table"]  # "table": numbers only, nothing drawn
Unit = Literal["count", "percent", "seconds", "score", "text"]
Value = int | float | str | None
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such text gets a quote first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Series:
    label: str
    values: list[Value]
    unit: Unit = "count"
    hidden: bool = False  # in the table and the CSV only (a total, a URL, a denominator)


@dataclass(frozen=True)
class Chart:
    id: str  # also the CSV's name: /.../{id}.csv
    title: str
    type: ChartType
    label_header: str  # what the labels are: "Day", "Intent", "Article" ...
    labels: list[str]
    series: list[Series]
    note: str = ""  # how the numbers are counted, in a sentence
    empty_text: str = "Nothing to show for this period."
    summary: list[tuple[str, str]] = field(default_factory=list)  # headline figures shown above the chart

    @property
    def empty(self) -> bool:
        """Nothing to draw: no labels, or every drawn value missing (or a zero count; a 0 % rate is a finding)."""
        return not self.labels or all(
            v is None or (s.unit == "count" and v == 0) for s in self.series if not s.hidden for v in s.values
        )

    @property
    def columns(self) -> list[str]:
        return [self.label_header, *(series.label for series in self.series)]

    @property
    def rows(self) -> list[list[Value]]:
        return [[label, *(series.values[i] for series in self.series)] for i, label in enumerate(self.labels)]

    def spec(self) -> dict[str, Any]:
        """What the page's script needs to draw the chart (hidden series left out)."""
        drawn = [s for s in self.series if not s.hidden]
        return {
            "type": self.type,
            "labels": self.labels,
            "series": [{"label": s.label, "values": s.values, "unit": s.unit} for s in drawn],
        }


def specs(charts: list[Chart]) -> dict[str, dict[str, Any]]:
    """The page's chart-data block: every drawn chart's spec by id."""
    return {chart.id: chart.spec() for chart in charts if chart.type != "table" and not chart.empty}


def csv_response(chart: Chart, filename: str) -> Response:
    """The chart's numbers as a CSV download named `filename` (ASCII letters, digits, - and . only)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(chart.columns)
    writer.writerows([[_cell(value) for value in row] for row in chart.rows])
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: Value) -> Value:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def percent(share: float | None) -> float | None:
    """A share as a percentage with one decimal, as tables and charts show it."""
    return None if share is None else round(share * 100, 1)
