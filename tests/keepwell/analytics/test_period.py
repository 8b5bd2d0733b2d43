"""The report period: whole UTC days, both ends included, parsed from the form with errors a CSM can read."""

from datetime import UTC, date, datetime

import pytest

from keepwell.analytics import BadPeriod, ReportPeriod
from keepwell.kpis import Period

TODAY = date(2026, 3, 31)


def test_the_default_is_the_last_30_days_including_today() -> None:
    period = ReportPeriod.parse(None, "", TODAY)
    assert (period.first, period.last, period.length) == (date(2026, 3, 2), TODAY, 30)


def test_a_period_runs_from_midnight_to_the_midnight_after_its_last_day() -> None:
    period = ReportPeriod.parse("2026-03-01", "2026-03-03", TODAY)
    assert period.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 4, tzinfo=UTC)
    assert period.days == [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    assert period.kpi_period == Period(date(2026, 3, 1), date(2026, 3, 4))


def test_one_day_is_a_period() -> None:
    assert ReportPeriod.parse("2026-03-01", "2026-03-01", TODAY).length == 1


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-03-05", "2026-03-01", "ends (2026-03-01) before it starts (2026-03-05)"),
        ("yesterday", None, "'from' must be a date written YYYY-MM-DD, not 'yesterday'"),
        (None, "2026-02-30", "'to' must be a date written YYYY-MM-DD"),
        ("2024-01-01", "2026-03-01", "choose at most 366 days"),
    ],
)
def test_a_bad_period_says_what_is_wrong(first: str | None, last: str | None, message: str) -> None:
    with pytest.raises(BadPeriod, match=message.replace("(", r"\(").replace(")", r"\)")):
        ReportPeriod.parse(first, last, TODAY)
