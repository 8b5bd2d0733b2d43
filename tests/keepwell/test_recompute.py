"""keepwell/recompute.py and `python -m keepwell recompute`: snapshots per account and day, trend, facts read from
every table in bulk, segments stored, steps in order, nothing written when a run fails; SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from keepwell import health_history, recompute
from keepwell.cli import main as cli
from keepwell.db import session_scope
from keepwell.models import (
    ChurnSignal,
    CSMTask,
    Customer,
    HealthSnapshot,
    OnboardingStep,
    Subscription,
    SupportTicket,
    SurveyAnswer,
    UsageSnapshot,
)
from keepwell.settings import get_core_settings

DAY = date(2025, 6, 1)


def add_account(session: Session, account_id: str, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "name": f"Account {account_id}",
        "plan": "growth",
        "company_size": "mid",
        "lifecycle_stage": "adoption",
        "mrr": 480.0,
        "seats_purchased": 20,
        "seats_used": 20,
        "signup_date": date(2024, 1, 15),
        "renewal_date": date(2026, 1, 15),
    }
    usage = overrides.pop("usage", {})
    fields.update(overrides)
    session.add(Customer(id=account_id, **fields))
    session.flush()
    if usage is not None:
        row = {"period_end": DAY - timedelta(days=10), "period_days": 30, "logins": 400, "active_users": 20}
        row |= {"feature_adoption": 1.0, "support_tickets": 0, "nps": 10, "csat": 5.0} | usage
        session.add(UsageSnapshot(customer_id=account_id, **row))
    session.flush()


def snapshots(engine: Engine) -> list[HealthSnapshot]:
    with session_scope(engine) as session:
        rows = session.scalars(select(HealthSnapshot).order_by(HealthSnapshot.account_id, HealthSnapshot.as_of))
        return list(rows)


def run(engine: Engine, day: date = DAY, **kwargs: Any) -> recompute.Run:
    with session_scope(engine) as session:
        return recompute.recompute(session, day, **kwargs)


def test_one_snapshot_per_account_and_day_and_a_rerun_replaces_it(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "a1")
        add_account(session, "a2", usage={"feature_adoption": 0.2})
    run(migrated)
    with session_scope(migrated) as session:
        session.execute(update(UsageSnapshot).where(UsageSnapshot.customer_id == "a1").values(feature_adoption=0.2))
    run(migrated)

    rows = snapshots(migrated)
    assert [(r.account_id, r.as_of) for r in rows] == [("a1", DAY), ("a2", DAY)]
    assert rows[0].score == rows[1].score  # a1's adoption fell to a2's: the second run's score replaced the first


def test_trend_against_the_previous_snapshot_flat_within_the_tolerance(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "up", usage={"feature_adoption": 0.2})
        add_account(session, "flat", usage={"feature_adoption": 0.5})
        add_account(session, "down", usage={"feature_adoption": 0.9})
    run(migrated, DAY - timedelta(days=7))
    with session_scope(migrated) as session:
        for account, adoption in (("up", 0.6), ("flat", 0.51), ("down", 0.3)):
            session.execute(
                update(UsageSnapshot).where(UsageSnapshot.customer_id == account).values(feature_adoption=adoption)
            )
    run(migrated)

    trends = {(r.account_id, r.as_of): r.trend for r in snapshots(migrated)}
    assert trends[("up", DAY)] == "up"
    assert trends[("flat", DAY)] == "flat"
    assert trends[("down", DAY)] == "down"
    assert trends[("up", DAY - timedelta(days=7))] is None  # nothing before the first


def test_facts_come_from_surveys_tickets_subscriptions_and_the_checklist(migrated: Engine) -> None:
    noon = datetime(2025, 5, 20, 12, tzinfo=UTC)
    with session_scope(migrated) as session:
        add_account(session, "a1", renewal_date=DAY + timedelta(days=40), usage={"nps": None, "csat": None})
        session.add_all(
            [
                SurveyAnswer(external_id="n1", account_id="a1", kind="nps", score=6, answered_at=noon),
                SurveyAnswer(external_id="n2", account_id="a1", kind="nps", score=8, answered_at=noon),
                SurveyAnswer(external_id="c1", account_id="a1", kind="csat", score=2, answered_at=noon),
                # after the day scored: ignored
                SurveyAnswer(external_id="n3", account_id="a1", kind="nps", score=0, answered_at=noon + timedelta(30)),
                SupportTicket(external_id="t1", account_id="a1", opened_at=noon),
                SupportTicket(external_id="t2", account_id="a1", opened_at=noon - timedelta(days=60)),  # too old
                Subscription(
                    external_id="s1", account_id="a1", plan="growth", mrr=480, seats_purchased=40, seats_used=20,
                    started_on=date(2024, 1, 15), renews_on=DAY + timedelta(days=40), billing_state="past_due",
                ),
                OnboardingStep(account_id="a1", step_key="one", title="One", position=1, completed_at=noon),
                OnboardingStep(account_id="a1", step_key="two", title="Two", position=2),
            ]
        )  # fmt: skip
    run(migrated)

    [row] = snapshots(migrated)
    assert row.scorecard == "renewal"  # renewal within 90 days
    measures = row.measures
    assert measures["nps"]["value"] == 7.0 and measures["nps"]["points"] == 60.0  # a passive
    assert measures["csat"]["value"] == 2.0
    assert measures["support_load"]["text"] == "1 support ticket in the last 30 days"
    assert measures["seat_utilisation"]["text"] == "20 of 40 seats in use"  # the term in force
    assert measures["billing_state"] == {
        "value": "past_due",
        "points": 30.0,
        "weight": 0.1,
        "text": "a payment is past due",
    }
    assert measures["days_to_renewal"]["text"] == "renewal in 40 days"


def test_measures_without_data_are_left_out_of_the_snapshot(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "a1", usage={"nps": None, "csat": None})
    run(migrated)

    [row] = snapshots(migrated)
    assert "nps" not in row.measures and "csat" not in row.measures
    assert sum(m["weight"] for m in row.measures.values()) == pytest.approx(1.0, abs=1e-3)
    assert row.score == 100  # perfect on everything it has data for


def test_segments_are_stored_on_the_account(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "young", signup_date=DAY - timedelta(days=20), mrr=100)
        add_account(session, "renewing", renewal_date=DAY + timedelta(days=30), mrr=3000)
        add_account(session, "big", plan="enterprise", mrr=9000)
    run(migrated)

    with session_scope(migrated) as session:
        got = {c.id: (c.lifecycle_stage, c.arr_band, c.touch_model) for c in session.scalars(select(Customer))}
    assert got == {
        "young": ("onboarding", "under-5k", "tech-touch"),
        "renewing": ("renewal", "5k-50k", "low-touch"),
        "big": ("mature", "50k-plus", "high-touch"),
    }
    assert {r.account_id: r.scorecard for r in snapshots(migrated)}["young"] == "onboarding"


def test_an_added_step_runs_after_health_and_a_failing_one_writes_nothing(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "a1")
    seen: list[str] = []

    def signals(run: recompute.Run) -> None:
        seen.append(run.health["a1"].band)

    run(migrated, steps=[*recompute.STEPS, recompute.Step("signals", signals)])
    assert seen == ["green"]

    def broken(_run: recompute.Run) -> None:
        raise RuntimeError("webhook down")

    with pytest.raises(RuntimeError):
        run(migrated, DAY + timedelta(days=1), steps=[*recompute.STEPS, recompute.Step("broken", broken)])
    assert [r.as_of for r in snapshots(migrated)] == [DAY]


def test_the_queries_do_not_grow_with_the_accounts(migrated: Engine) -> None:
    def statements(accounts: int) -> int:
        with session_scope(migrated) as session:
            session.execute(HealthSnapshot.__table__.delete())
            session.execute(UsageSnapshot.__table__.delete())
            session.execute(Customer.__table__.delete())
            for n in range(accounts):
                add_account(session, f"a{n}", lifecycle_stage="mature" if n % 2 else "adoption")
        count = 0

        def _count(*_args: Any) -> None:
            nonlocal count
            count += 1

        event.listen(migrated, "before_cursor_execute", _count)
        try:
            run(migrated)
        finally:
            event.remove(migrated, "before_cursor_execute", _count)
        return count

    assert statements(3) == statements(30)


def test_the_latest_snapshot_reads_back_with_trend_and_drivers(migrated: Engine) -> None:
    with session_scope(migrated) as session:
        add_account(session, "a1", seats_purchased=50, usage={"feature_adoption": 0.1})
    run(migrated, DAY - timedelta(days=7))
    with session_scope(migrated) as session:
        session.execute(update(UsageSnapshot).values(feature_adoption=0.9))
    run(migrated)

    with session_scope(migrated) as session:
        health = health_history.latest(session, "a1")
        past = health_history.history(session, "a1")
        assert health_history.latest(session, "nobody") is None
    assert health is not None
    assert (health.trend, health.as_of, health.previous_score) == ("up", DAY, past[0].score)
    assert "20 of 50 seats in use" in [d.text for d in health.drags]
    assert [h.as_of for h in past] == [DAY - timedelta(days=7), DAY]


def test_cli_recompute_reports_and_refuses_a_bad_scorecards_file(
    migrated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(migrated) as session:
        add_account(session, "a1")
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", migrated.url.render_as_string(hide_password=False))
    get_core_settings.cache_clear()

    assert cli(["recompute", "--as-of", DAY.isoformat(), "--quiet"]) == 0
    assert f"Recomputed 1 accounts as of {DAY}" in capsys.readouterr().out

    bad = tmp_path / "cards.yml"
    bad.write_text("scorecards:\n  - id: default\n    default: true\n    measures:\n      karma: {weight: 1}\n")
    monkeypatch.setenv("KEEPWELL_SCORECARDS_PATH", str(bad))
    get_core_settings.cache_clear()
    try:
        assert cli(["recompute", "--quiet"]) == 1
    finally:
        get_core_settings.cache_clear()
    assert f"{bad}:5: scorecards.0.measures.karma" in capsys.readouterr().err
    with session_scope(migrated) as session:
        assert session.scalar(select(func.count()).select_from(HealthSnapshot)) == 1


def test_a_run_shows_progress_with_counts(migrated: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with session_scope(migrated) as session:
        for n in range(3):
            add_account(session, f"a{n}")
    run(migrated, progress=True)

    err = capsys.readouterr().err
    assert "health" in err and "3/3" in err and "accounts" in err


def test_cli_recompute_detects_signals_then_runs_the_playbooks(
    migrated: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A detractor's answer opens a churn signal; the bundled "churn-signal" playbook raises a task for it.
    with session_scope(migrated) as session:
        add_account(session, "a1")
        add_account(session, "a2")
        answered = datetime(2025, 5, 20, 12, tzinfo=UTC)
        session.add(SurveyAnswer(external_id="n1", account_id="a1", kind="nps", score=3, answered_at=answered))
    monkeypatch.setenv("KEEPWELL_DATABASE_URL", migrated.url.render_as_string(hide_password=False))
    monkeypatch.delenv("KEEPWELL_WEBHOOK_URL", raising=False)
    get_core_settings.cache_clear()
    try:
        assert cli(["recompute", "--as-of", DAY.isoformat(), "--quiet", "--no-playbooks"]) == 0
        with session_scope(migrated) as session:
            opened = session.execute(select(ChurnSignal.account_id, ChurnSignal.kind)).all()
            assert [tuple(row) for row in opened] == [("a1", "detractor_nps")]
            assert session.scalar(select(func.count()).select_from(CSMTask)) == 0

        assert cli(["recompute", "--as-of", DAY.isoformat(), "--quiet"]) == 0
    finally:
        get_core_settings.cache_clear()
    out = capsys.readouterr().out
    assert "signals: 2 accounts" in out and "playbooks:" in out
    with session_scope(migrated) as session:
        tasks = session.scalars(select(CSMTask)).all()
        assert [(task.account_id, task.source) for task in tasks] == [("a1", "playbook:churn-signal")]
