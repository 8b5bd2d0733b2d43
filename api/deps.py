"""FastAPI dependencies and their `Annotated` aliases; tests swap them with `app.dependency_overrides`."""

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from api.services.handoff_webhooks import HandoffWebhookSender
from api.services.live import LiveSignals
from api.services.rasa import RasaClient
from api.services.rate_limits import RateLimiter
from api.services.turns import Turns
from api.settings import Settings
from keepwell import staff
from keepwell.db import session_factory
from keepwell.staff import StaffView

# Keys of the console session: the account, when it signed in (ISO 8601, UTC), the CSRF token.
SESSION_STAFF_ID = "staff_id"
SESSION_SIGNED_IN_AT = "signed_in_at"
SESSION_CSRF = "csrf"


class LoginRequired(Exception):
    """No valid console session: the app redirects page requests to the login page and refuses other methods."""


class AdminRequired(Exception):
    """A signed-in CSM asked for an admin page or action: the app answers with a 403 page."""

    def __init__(self, staff: StaffView) -> None:
        super().__init__(staff.username)
        self.staff = staff


class CsrfRejected(Exception):
    """A console form without the session's CSRF token (or with another): the app answers with a 403 page."""


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A domain-database session; callers commit explicitly, anything uncommitted is rolled back."""
    session = session_factory(request.app.state.engine)()
    try:
        yield session
    finally:
        session.close()


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def get_turns(request: Request) -> Turns:
    return request.app.state.turns


def get_live(request: Request) -> LiveSignals:
    return request.app.state.live


def get_handoff_webhooks(request: Request) -> HandoffWebhookSender:
    return request.app.state.handoff_webhooks


def get_rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


def client_address(request: Request) -> str:
    """The client's IP address, for rate limits and the audit log.

    Behind a proxy listed in KEEPWELL_TRUSTED_PROXIES it is taken from X-Forwarded-For (the proxy middleware has
    already put it in `request.client`); from any other peer the forwarded headers are ignored.
    """
    return request.client.host if request.client else "unknown"


def current_staff(request: Request, session: Annotated[Session, Depends(get_session)]) -> StaffView:
    """The signed-in console account, checked on every request against the database: a session of an account
    that was deleted, deactivated, or signed out everywhere (password change included) ends here and now."""
    staff_id = request.session.get(SESSION_STAFF_ID)
    signed_in_at = _parse_time(request.session.get(SESSION_SIGNED_IN_AT))
    if not isinstance(staff_id, int) or signed_in_at is None:
        raise LoginRequired()
    user = staff.get(session, staff_id)
    if user is None or not user.session_is_valid(signed_in_at):
        request.session.clear()  # the middleware deletes the stored session and the cookie
        raise LoginRequired()
    request.state.staff = user  # console pages show who is signed in
    return user


def admin_staff(user: Annotated[StaffView, Depends(current_staff)]) -> StaffView:
    if not user.is_admin:
        raise AdminRequired(user)
    return user


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return staff.as_utc(moment)


def csrf_token(request: Request) -> str:
    """The per-session token every console form carries."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return str(token)


def verify_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not secrets.compare_digest(str(expected), csrf):
        raise CsrfRejected()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
TurnsDep = Annotated[Turns, Depends(get_turns)]
LiveDep = Annotated[LiveSignals, Depends(get_live)]
HandoffWebhooksDep = Annotated[HandoffWebhookSender, Depends(get_handoff_webhooks)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
ClientAddress = Annotated[str, Depends(client_address)]
CurrentStaff = Annotated[StaffView, Depends(current_staff)]
AdminStaff = Annotated[StaffView, Depends(admin_staff)]
CsrfChecked = Depends(verify_csrf)
# For console forms: who is asking is checked before the CSRF token, so an anonymous post is a 401, a CSM's post
# to an admin form a 403 (FastAPI runs a route's `dependencies` first, in order, and caches their results).
SignedInForm = [Depends(current_staff), CsrfChecked]
AdminForm = [Depends(admin_staff), CsrfChecked]
