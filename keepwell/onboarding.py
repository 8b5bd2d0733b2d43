"""An account's onboarding checklist: how far along it is and the next step to take, with its manual page."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import OnboardingStep


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    help_url: str | None
    due_on: date | None


@dataclass(frozen=True)
class Checklist:
    """`done` of `total` steps completed; `next` is the first step still to do in checklist order (None: all done)."""

    done: int
    total: int
    next: Step | None

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.next is None


def checklist(session: Session, account_id: str) -> Checklist:
    """The account's checklist; an account without one has total 0."""
    steps = session.scalars(
        select(OnboardingStep).where(OnboardingStep.account_id == account_id).order_by(OnboardingStep.position)
    ).all()
    pending = [s for s in steps if s.completed_at is None]
    first = pending[0] if pending else None
    return Checklist(
        done=len(steps) - len(pending),
        total=len(steps),
        next=None if first is None else Step(first.step_key, first.title, first.help_url, first.due_on),
    )
