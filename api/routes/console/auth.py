"""Console sign-in and sign-out: limited per account and per address, audited, a new session id at sign-in."""

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import (
    SESSION_SIGNED_IN_AT,
    SESSION_STAFF_ID,
    CsrfChecked,
    LoginRequired,
    SessionDep,
    client_address,
    current_staff,
)
from api.routes.console._pages import redirect, render, safe_next, too_many_attempts
from api.services import sessions
from api.services.rate_limits import Check, RateLimited, address_key
from keepwell import audit, staff
from keepwell.models import utcnow
from keepwell.staff import StaffError, StaffView

router = APIRouter(prefix="/console", tags=["console"])
logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Wrong email or password"
_ADDRESS_SCOPE = "console-login-address"
_ACCOUNT_SCOPE = "console-login-account"
# A failed sign-in is audited under the email it was aimed at; anything else typed in the email field (people
# sometimes type their password there) is not written down.
_NOT_AN_EMAIL = "(not an email)"


@dataclass(frozen=True)
class _Attempt:
    staff: StaffView | None = None
    retry_after_s: int | None = None  # set when a limit refused the attempt


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    try:
        current_staff(request, session)
    except LoginRequired:
        return render(request, "console_login.html", {"next": safe_next(next), "error": None, "username": ""})
    return redirect(safe_next(next))


@router.post("/login", response_class=HTMLResponse, include_in_schema=False, dependencies=[CsrfChecked])
async def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=staff.MAX_PASSWORD_LENGTH)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    # Argon2 is CPU work, and the limiter and the database may be remote: off the event loop.
    attempt = await run_in_threadpool(_attempt, request, session, username, password)
    if attempt.retry_after_s is not None:
        return too_many_attempts(request, attempt.retry_after_s)
    if attempt.staff is None:
        context = {"next": safe_next(next), "error": WRONG_CREDENTIALS, "username": username}
        return render(request, "console_login.html", context, status.HTTP_401_UNAUTHORIZED)
    # A new session under a new id: nothing from before (an id an attacker planted, the CSRF token) carries over.
    await sessions.start_fresh(request)
    request.session[SESSION_STAFF_ID] = attempt.staff.id
    assert attempt.staff.last_login_at is not None
    request.session[SESSION_SIGNED_IN_AT] = attempt.staff.last_login_at.isoformat()
    return redirect(safe_next(next))


@router.post("/logout", include_in_schema=False, dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep) -> Response:
    try:
        user = current_staff(request, session)
    except LoginRequired:
        user = None
    if user is not None:
        audit.record(session, user, "auth.sign_out", "user", user.id, ip=client_address(request))
        session.commit()
    request.session.clear()  # the middleware deletes the stored session and expires the cookie
    return redirect("/console/login")


def _attempt(request: Request, session: Session, username: str, password: str) -> _Attempt:
    settings = request.app.state.settings
    limiter = request.app.state.rate_limiter
    ip = client_address(request)
    account = username.strip().lower()[:200]
    # Every attempt counts, right or wrong: once a limit is reached even the right password waits.
    try:
        limiter.enforce(
            [
                Check(_ADDRESS_SCOPE, address_key(ip), settings.login_rate_limit_per_address, "address"),
                Check(_ACCOUNT_SCOPE, account, settings.login_rate_limit_per_account, "account"),
            ]
        )
    except RateLimited as limited:
        logger.warning("console sign-in refused: too many attempts from this %s", limited.detail)
        return _Attempt(retry_after_s=limited.retry_after_s)
    if not account or not password:
        return _Attempt()
    result = staff.authenticate(session, account, password)
    if result.staff is None:
        audit.record(
            session,
            _audit_name(account),
            "auth.sign_in_failed",
            "user",
            result.user_id,
            {"reason": result.failure},
            ip=ip,
        )
        session.commit()
        return _Attempt()
    user = staff.record_sign_in(session, result.staff.id, utcnow())
    audit.record(session, user, "auth.sign_in", "user", user.id, ip=ip)
    session.commit()
    limiter.clear(_ACCOUNT_SCOPE, account, settings.login_rate_limit_per_account)
    return _Attempt(staff=user)


def _audit_name(typed: str) -> str:
    try:
        return staff.normalize_email(typed)
    except StaffError:
        return _NOT_AN_EMAIL
