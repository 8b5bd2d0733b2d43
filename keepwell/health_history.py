"""An account's health over time, read back from the snapshots `python -m keepwell recompute` writes."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import health
from keepwell.accounts import Account
from keepwell.health import COMPONENT_LABELS, DRIVER_COUNT, Component, Driver, HealthScore
from keepwell.models import HealthSnapshot


def latest(session: Session, account_id: str) -> HealthScore | None:
    """The account's latest snapshot with its trend and the score before it; None when it has none yet."""
    rows = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.account_id == account_id)
        .order_by(HealthSnapshot.as_of.desc())
        .limit(2)
    ).all()
    if not rows:
        return None
    return _health(rows[0], rows[1].score if len(rows) > 1 else None)


def assess(session: Session, account: Account) -> HealthScore:
    """The account's health as the engine last recorded it (with trend); scored live when it has no snapshot yet."""
    return latest(session, account.id) or health.score(account)


def history(session: Session, account_id: str) -> list[HealthScore]:
    """Every snapshot of the account, oldest first."""
    rows = session.scalars(
        select(HealthSnapshot).where(HealthSnapshot.account_id == account_id).order_by(HealthSnapshot.as_of)
    ).all()
    return [_health(row, before.score if before else None) for row, before in zip(rows, [None, *rows], strict=False)]


def _health(row: HealthSnapshot, previous: int | None) -> HealthScore:
    ranked = [_driver(d) for d in row.drivers or []]
    return HealthScore(
        score=row.score,
        band=row.band,  # type: ignore[arg-type]
        components=[_component(name, m) for name, m in (row.measures or {}).items()],
        drivers=ranked[:DRIVER_COUNT],
        scorecard=row.scorecard,
        ranked=ranked,
        as_of=row.as_of,
        trend=row.trend,  # type: ignore[arg-type]
        previous_score=previous,
    )


def _component(name: str, measure: dict[str, Any]) -> Component:
    return Component(
        name=name,
        label=COMPONENT_LABELS.get(name, name),
        value=float(measure["points"]),
        weight=float(measure["weight"]),
        raw=measure.get("value"),
        text=measure.get("text", ""),
    )


def _driver(driver: dict[str, Any]) -> Driver:
    return Driver(
        label=driver["label"],
        value=float(driver["points"]),
        direction=driver["direction"],
        measure=driver.get("measure", ""),
        text=driver.get("text", ""),
    )
