"""The whole report: the parts above, the offer funnel and the book KPIs (from keepwell.kpis, not re-derived)."""

from sqlalchemy.orm import Session

from keepwell import analytics, kpis
from keepwell.settings import CoreSettings
from tests.keepwell.analytics.conftest import PERIOD


def test_the_report_adds_up_the_days_and_reads_offers_and_kpis(session: Session) -> None:
    settings = CoreSettings()
    report = analytics.report(session, PERIOD, settings)
    assert report.conversations == 5
    assert (report.handed_over, report.containment_rate, report.handoff_rate) == (3, 0.4, 0.6)
    assert report.fallback_rate == 2 / 6
    assert [(r.offer_id, r.shown, r.clicked, r.accepted) for r in report.offers] == [
        ("automations", 2, 0, 0),
        ("extra-seats", 1, 1, 1),
    ]
    assert report.book == kpis.book_kpis(session, PERIOD.kpi_period, settings)
    assert report.book["mrr"].value == 400.0
    assert report.book["arpa"].value == 200.0
