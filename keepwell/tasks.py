"""CSM tasks as the console reads them: open tasks with their account and owner, soonest due first."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from keepwell.models import CSMTask, CSMUser, Customer, as_utc, utcnow


@dataclass(frozen=True)
class TaskView:
    id: int
    account_id: str
    account_name: str
    owner_id: int | None
    owner: str | None  # the owner's sign-in email; None when unassigned
    title: str
    detail: str
    due_on: date | None
    source: str
    created_at: datetime


def open_tasks(
    session: Session, owner_id: int | None = None, limit: int = 200, account_id: str | None = None
) -> list[TaskView]:
    """Open tasks (of one owner, of one account, when given), soonest due first, undated last."""
    owner = aliased(CSMUser)
    query = (
        select(CSMTask, Customer.name, owner.username)
        .join(Customer, Customer.id == CSMTask.account_id)
        .outerjoin(owner, owner.id == CSMTask.owner_id)
        .where(CSMTask.status == "open")
        .order_by(CSMTask.due_on.is_(None), CSMTask.due_on, CSMTask.id)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(CSMTask.owner_id == owner_id)
    if account_id is not None:
        query = query.where(CSMTask.account_id == account_id)
    return [
        TaskView(
            id=task.id,
            account_id=task.account_id,
            account_name=name,
            owner_id=task.owner_id,
            owner=username,
            title=task.title,
            detail=task.detail,
            due_on=task.due_on,
            source=task.source,
            created_at=as_utc(task.created_at),
        )
        for task, name, username in session.execute(query)
    ]


def complete(session: Session, task_id: int) -> TaskView | None:
    """Mark an open task done; None when there is no such open task. The caller commits."""
    task = session.get(CSMTask, task_id)
    if task is None or task.status != "open":
        return None
    task.status, task.completed_at = "done", utcnow()
    session.flush()
    owner = session.get(CSMUser, task.owner_id) if task.owner_id else None
    customer = session.get(Customer, task.account_id)
    return TaskView(
        id=task.id,
        account_id=task.account_id,
        account_name=customer.name if customer else task.account_id,
        owner_id=task.owner_id,
        owner=owner.username if owner else None,
        title=task.title,
        detail=task.detail,
        due_on=task.due_on,
        source=task.source,
        created_at=as_utc(task.created_at),
    )
