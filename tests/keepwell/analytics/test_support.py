"""Handoffs, waiting time to the first human reply and CSAT, on the world of conftest.py."""

from sqlalchemy.orm import Session

from keepwell.analytics import support
from tests.keepwell.analytics.conftest import PERIOD


def test_handoffs_requested_in_the_period_with_their_waits(session: Session) -> None:
    stats = support.handoff_stats(session, PERIOD)
    # c2 (120 s), c3 (30 s) and c8 (no reply yet); c6's handoff was requested before the period.
    assert (stats.requested, stats.replied) == (3, 2)
    assert stats.mean_wait_s == 75.0
    assert (stats.median_wait_s, stats.p90_wait_s) == (30.0, 120.0)  # nearest rank of [30, 120]
    assert stats.by_kind == {"Asked for a person": 2, "Frustrated customer": 1}
    assert stats.wait_buckets == {
        "under 1 min": 1, "1-5 min": 1, "5-15 min": 0, "15-60 min": 0, "1-4 h": 0, "over 4 h": 0,
    }  # fmt: skip


def test_csat_counts_answers_given_in_the_period(session: Session) -> None:
    csat = support.csat(session, PERIOD)
    # 5 (c2) and 2 (c3), and 4 for c6: its handoff was before the period but the answer came on March 1st.
    assert csat.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert csat.answers == 3
    assert csat.average == 11 / 3
    assert csat.satisfied_share == 2 / 3


def test_percentile_is_the_nearest_rank() -> None:
    assert support.percentile([], 0.5) is None
    assert support.percentile([10.0], 0.9) == 10.0
    assert support.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert support.percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
