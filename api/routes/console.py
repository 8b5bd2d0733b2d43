"""The CSM console: sign-in, conversation logs with intents, customer health, handoffs and feedback."""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import ConversationLogDep, CsrfChecked, CurrentCSM, RasaDep, SessionDep, csrf_token
from api.limiter import limiter
from api.services import auth
from api.services.rasa import RasaUnavailable
from api.settings import get_settings
from keepwell import accounts, feedback, handoffs, health
from keepwell.handoffs import HandoffView
from keepwell.models import Conversation
from keepwell.segments import PLAN_LABELS, segment_of

router = APIRouter(prefix="/console", tags=["console"])

PAGE_SIZE = 25
LOW_CONFIDENCE = 0.6
ANONYMOUS = "Anonymous visitor"
WRONG_CREDENTIALS = "Wrong username or password"
# A console path, optionally with a query, in printable ASCII without spaces or backslashes (which some
# browsers read as "/"); "//" is refused separately. No scheme or host can match.
_LOCAL_CONSOLE_PATH = re.compile(r"^/console(?:[/?][\x21-\x5b\x5d-\x7e]*)?$")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: `target` when it is a console path on this site, else the console home.

    Anything else (another host, `//host`, a scheme, a non-console path) is refused so the login form
    cannot be used as an open redirect.
    """
    if target and _LOCAL_CONSOLE_PATH.match(target) and "//" not in target:
        return target
    return "/console"


@dataclass(frozen=True)
class CustomerLabel:
    id: str | None
    name: str


def _render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render a console page; every page gets the CSRF token (for the log-out form) and the signed-in CSM."""
    page = {"csrf": csrf_token(request), "csm": request.session.get("csm"), **(context or {})}
    return request.app.state.templates.TemplateResponse(request, name, page, status_code=status_code)


def _not_found(request: Request, what: str) -> HTMLResponse:
    return _render(request, "console_not_found.html", {"what": what}, status.HTTP_404_NOT_FOUND)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _customer_ids(session: Session, conversation_ids: list[str]) -> dict[str, str | None]:
    """The identity each conversation was started with (conversations unknown to the gateway are absent)."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(Conversation.id, Conversation.customer_id).where(Conversation.id.in_(conversation_ids))
    ).all()
    return {conversation_id: customer_id for conversation_id, customer_id in rows}


def _labels(session: Session, customer_ids: set[str | None]) -> dict[str | None, CustomerLabel]:
    """Account names for customer ids; anonymous visitors and deleted accounts keep a readable label."""
    labels: dict[str | None, CustomerLabel] = {None: CustomerLabel(None, ANONYMOUS)}
    for customer_id in customer_ids - {None}:
        account = accounts.get_account(session, customer_id) if customer_id else None
        labels[customer_id] = CustomerLabel(customer_id, account.name if account else f"Unknown account {customer_id}")
    return labels


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    if request.session.get("csm"):
        return _redirect(safe_next(next))
    return _render(request, "console_login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False, dependencies=[CsrfChecked])
@limiter.limit(lambda: get_settings().login_rate_limit)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    # A sync endpoint on purpose: Argon2 verification is CPU work and runs in the thread pool.
    user = auth.authenticate(session, username.strip(), password) if username.strip() and password else None
    if user is None:
        context = {"next": safe_next(next), "error": WRONG_CREDENTIALS, "username": username}
        return _render(request, "console_login.html", context, status.HTTP_401_UNAUTHORIZED)
    # A fresh session on sign-in: nothing from before (including the CSRF token) carries over.
    request.session.clear()
    request.session["csm"] = user
    return _redirect(safe_next(next))


@router.post("/logout", include_in_schema=False, dependencies=[CsrfChecked])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return _redirect("/console/login")


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def conversations(
    request: Request,
    csm: CurrentCSM,
    session: SessionDep,
    log: ConversationLogDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    # One row more than a page tells whether there is a next page without counting everything.
    summaries = log.list_conversations(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    has_next = len(summaries) > PAGE_SIZE
    summaries = summaries[:PAGE_SIZE]
    ids = [s.conversation_id for s in summaries]
    customer_ids = _customer_ids(session, ids)
    handoff_by_conversation = handoffs.for_conversations(session, ids) if ids else {}
    labels = _labels(session, set(customer_ids.values()))
    rows = [
        {
            "summary": summary,
            "customer": labels[customer_ids.get(summary.conversation_id)],
            "handoff": handoff_by_conversation.get(summary.conversation_id),
        }
        for summary in summaries
    ]
    return _render(
        request,
        "console_conversations.html",
        {"rows": rows, "page": page, "has_next": has_next, "nav": "conversations"},
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse, include_in_schema=False)
def conversation(
    request: Request, conversation_id: str, csm: CurrentCSM, session: SessionDep, log: ConversationLogDep
) -> HTMLResponse:
    transcript = log.transcript(conversation_id)
    known = _customer_ids(session, [conversation_id])
    handoff = handoffs.for_conversations(session, [conversation_id]).get(conversation_id)
    if not transcript and conversation_id not in known and handoff is None:
        return _not_found(request, "conversation")
    customer_id = known.get(conversation_id) or (handoff.customer_id if handoff else None)
    account = accounts.get_account(session, customer_id) if customer_id else None
    context = {
        "conversation_id": conversation_id,
        "transcript": transcript,
        "low_confidence": LOW_CONFIDENCE,
        "customer_id": customer_id,
        "account": account,
        "plan_label": PLAN_LABELS.get(account.plan, account.plan) if account else None,
        "segment": segment_of(account).label if account else None,
        "health": health.score(account) if account else None,
        "handoff": handoff,
        "nav": "conversations",
    }
    return _render(request, "console_transcript.html", context)


@router.post("/handoffs/{handoff_id}/release", include_in_schema=False, dependencies=[CsrfChecked])
async def release_handoff(
    request: Request,
    handoff_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    csm: CurrentCSM,
    session: SessionDep,
    rasa: RasaDep,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    released = handoffs.release(session, handoff_id, csm)
    if released is None:
        return _not_found(request, "handoff")
    try:
        await rasa.resume(released.conversation_id)
    except RasaUnavailable:
        session.rollback()  # the handoff stays open: the bot is still paused
        raise HTTPException(503, "The assistant is unavailable; the handoff stays open. Try again shortly.") from None
    session.commit()
    return _redirect(safe_next(next or f"/console/conversations/{released.conversation_id}"))


@router.get("/handoffs", response_class=HTMLResponse, include_in_schema=False)
def handoff_list(request: Request, csm: CurrentCSM, session: SessionDep) -> HTMLResponse:
    open_handoffs = handoffs.list_handoffs(session, status="open")
    released = handoffs.list_handoffs(session, status="released", limit=50)
    labels = _labels(session, {h.customer_id for h in [*open_handoffs, *released]})

    def rows(items: list[HandoffView]) -> list[dict[str, Any]]:
        return [{"handoff": h, "customer": labels[h.customer_id]} for h in items]

    context = {"open_rows": rows(open_handoffs), "released_rows": rows(released), "nav": "handoffs"}
    return _render(request, "console_handoffs.html", context)


@router.get("/feedback", response_class=HTMLResponse, include_in_schema=False)
def feedback_list(request: Request, csm: CurrentCSM, session: SessionDep) -> HTMLResponse:
    items = feedback.list_feedback(session, limit=200)
    labels = _labels(session, {item.customer_id for item in items})
    rows = [{"feedback": item, "customer": labels[item.customer_id]} for item in items]
    return _render(request, "console_feedback.html", {"rows": rows, "nav": "feedback"})
