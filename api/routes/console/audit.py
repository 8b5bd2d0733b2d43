"""Console, admins only: the audit log, filtered by actor, action, target and dates, newest first, a page at a time."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse

from api.deps import AdminStaff, SessionDep
from api.routes.console._pages import render
from keepwell import audit

router = APIRouter(prefix="/console/audit", tags=["console"])

PAGE_SIZE = 50
# Groups offered beside the single actions: every sign-in event, every account change.
ACTION_GROUPS = {
    "auth.": "Any sign-in event",
    "user.": "Any account change",
    "api_key.": "Any API key change",
    "handoff.": "Any handoff action",
    "conversation.": "Any conversation view, review or export",
    "article.": "Any knowledge-base change",
}


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def audit_log(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    target_type: Annotated[str, Query(max_length=32)] = "",
    target_id: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    start, errors_start = _day(since, "From")
    end, errors_end = _day(until, "To")
    errors = errors_start + errors_end
    if start and end and start > end:
        errors.append("From must be on or before To.")
    if action and action not in audit.ACTIONS and action not in ACTION_GROUPS:
        errors.append("Choose an action from the list.")
    filters = {
        "actor": actor.strip(),
        "action": action,
        "from": since,
        "to": until,
        "target_type": target_type.strip(),
        "target_id": target_id.strip(),
    }
    if errors:
        entries = audit.AuditPage([], 0, 1, PAGE_SIZE)
    else:
        entries = audit.list_events(
            session,
            actor=filters["actor"] or None,
            action=action or None,
            since=datetime.combine(start, time.min, UTC) if start else None,
            # "To" is inclusive: everything before the start of the next day.
            until=datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None,
            target_type=filters["target_type"] or None,
            target_id=filters["target_id"] or None,
            page=page,
            page_size=PAGE_SIZE,
        )
    query = {key: value for key, value in filters.items() if value}
    context = {
        "entries": entries,
        "filters": filters,
        "actions": audit.ACTIONS,
        "action_groups": ACTION_GROUPS,
        "actors": audit.actors(session),
        "target_types": audit.target_types(session),
        "errors": errors,
        "prev_url": _page_url(query, page - 1) if page > 1 else None,
        "next_url": _page_url(query, page + 1) if entries.has_next else None,
        "nav": "audit",
    }
    return render(request, "console_audit.html", context, status.HTTP_400_BAD_REQUEST if errors else 200)


def _day(value: str, label: str) -> tuple[date | None, list[str]]:
    if not value:
        return None, []
    try:
        return date.fromisoformat(value), []
    except ValueError:
        return None, [f"{label}: enter a date as YYYY-MM-DD."]


def _page_url(query: dict[str, str], page: int) -> str:
    return "/console/audit?" + urlencode({**query, "page": page})
