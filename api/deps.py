"""FastAPI dependencies and their `Annotated` aliases; tests swap them with `app.dependency_overrides`."""

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request, status
from sqlalchemy.orm import Session

from api.services.conversation_log import ConversationLog
from api.services.rasa import RasaClient
from api.settings import Settings
from keepwell.db import session_factory


class LoginRequired(Exception):
    """Raised for console pages without a signed-in CSM; the app answers with a redirect to the login page."""


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


def get_conversation_log(request: Request) -> ConversationLog:
    return request.app.state.conversation_log


def current_csm(request: Request) -> str:
    username = request.session.get("csm")
    if not username:
        raise LoginRequired()
    return str(username)


def csrf_token(request: Request) -> str:
    """The per-session token every console form carries."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def verify_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(expected), csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form expired; reload the page and try again.")


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
ConversationLogDep = Annotated[ConversationLog, Depends(get_conversation_log)]
CurrentCSM = Annotated[str, Depends(current_csm)]
CsrfChecked = Depends(verify_csrf)
