"""Assembles the gateway: settings, storage, clients, routers, middleware and error handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from slowapi.errors import RateLimitExceeded
from starlette.middleware.sessions import SessionMiddleware

from api.deps import LoginRequired
from api.limiter import limiter
from api.routes import chat, console, demo, health, pages
from api.services import auth
from api.services.articles import HelpCentre
from api.services.conversation_log import ConversationLog
from api.services.rasa import RasaClient
from api.settings import Settings, get_settings
from keepwell import demo_data
from keepwell.db import create_tables, get_engine, session_scope

_HERE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None, rasa: RasaClient | None = None) -> FastAPI:
    """Build the gateway. Tests pass their own settings (and, in unit tests, a stand-in Rasa client)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = get_engine(settings.resolved_database_url)
        create_tables(engine)
        with session_scope(engine) as session:
            if settings.demo_mode:
                demo_data.seed(session)
            auth.ensure_csm(session, settings.csm_username, settings.csm_password)
        app.state.engine = engine
        app.state.conversation_log = ConversationLog(get_engine(settings.resolved_tracker_store_url))
        app.state.help_centre = HelpCentre(settings.kb_content_dir, settings.help_base_url)
        app.state.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)
        yield
        await app.state.rasa.aclose()

    app = FastAPI(title="Keepwell", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=_HERE / "templates")
    app.state.limiter = limiter
    limiter.enabled = settings.rate_limit_enabled
    limiter.reset()  # counts belong to one app's lifetime

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="keepwell_console",
        max_age=settings.session_max_age_seconds,
        same_site="strict",
        https_only=settings.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    for module in (chat, health, demo, pages, console):
        app.include_router(module.router)

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimitExceeded, _rate_limited)
    app.add_exception_handler(LoginRequired, _login_required)
    return app


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable sentence per problem, e.g. "message: String should have at most 2000 characters"."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": "; ".join(problems), "errors": problems}
    )


async def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        content={"detail": f"Too many messages; please wait a moment ({exc}).".replace("  ", " ")},
    )


async def _login_required(request: Request, _exc: Exception) -> RedirectResponse:
    return RedirectResponse(f"/console/login?next={request.url.path}", status_code=status.HTTP_303_SEE_OTHER)
