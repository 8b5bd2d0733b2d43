"""Assembles the gateway: settings, storage, clients, routers, middleware and error handlers."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starsessions import SessionAutoloadMiddleware, SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import knowledge_base
from api.deps import AdminRequired, CsrfRejected, LoginRequired
from api.middleware import ChatCORSMiddleware, SecurityHeadersMiddleware
from api.openapi import document_request_errors
from api.routes import chat, console, conversations, demo, health, ingest, pages
from api.schemas import ValidationErrorPublic
from api.services import sessions
from api.services.articles import HelpCentre
from api.services.handoff_webhooks import HandoffWebhookSender
from api.services.live import LiveSignals, RedisLiveSignals
from api.services.rasa import RasaClient
from api.services.rate_limits import RateLimited, limiter_for
from api.services.redelivery import Redelivery
from api.services.retention import RetentionWorker
from api.services.tracker_events import TrackerEvents
from api.services.turns import Turns
from api.settings import Settings, get_settings
from keepwell import webhooks
from keepwell.db import check_current, get_engine
from knowledge_base.authoring import ArticleStore
from knowledge_base.reindexer import Reindexer

_HERE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None, rasa: RasaClient | None = None) -> FastAPI:
    """Build the gateway. Tests pass their own settings (and, in unit tests, a stand-in Rasa client).

    The app database must already be migrated (`python -m keepwell db upgrade`; `make run` does it first).
    """
    settings = settings or get_settings()
    docs = settings.demo_mode  # the interactive API docs and the schema are served in demo mode only
    app = FastAPI(
        title="Keepwell",
        version="0.2.0",
        lifespan=_lifespan(settings, rasa),
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=_HERE / "templates")
    app.state.rate_limiter = limiter_for(settings)
    # Article authoring and reindexing; the KnowledgeBase (and its model) is created on the first reindex or question.
    app.state.article_store = ArticleStore(settings.kb_content_dir, settings.help_base_url)
    app.state.reindexer = Reindexer(partial(knowledge_base.from_settings, settings))
    _add_middleware(app, settings)
    _add_routes(app)
    _add_error_handlers(app)
    return app


def _lifespan(settings: Settings, rasa: RasaClient | None) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = get_engine(settings.resolved_database_url)
        check_current(app.state.engine)  # migrations run before the gateway starts (bootstrap.prepare)
        app.state.help_centre = HelpCentre(settings.kb_content_dir, settings.help_base_url)
        app.state.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_s)
        app.state.live = (
            RedisLiveSignals(settings.redis_url, channel=f"{settings.redis_key_prefix}:conversation-updates")
            if settings.redis_url
            else LiveSignals()
        )
        await app.state.live.start()
        app.state.tracker_engine = get_engine(settings.resolved_tracker_store_url)
        tracker = TrackerEvents(app.state.tracker_engine)
        app.state.turns = Turns(app.state.engine, app.state.rasa, tracker, app.state.live, settings)
        policy = webhooks.WebhookPolicy.from_settings(settings)
        app.state.handoff_webhooks = HandoffWebhookSender(app.state.engine, policy)
        app.state.handoff_webhooks.start()
        app.state.redelivery = Redelivery(
            app.state.engine, app.state.turns, app.state.rasa, app.state.live, settings, app.state.handoff_webhooks
        )
        app.state.redelivery.start()
        app.state.retention = RetentionWorker(app.state.engine, app.state.tracker_engine, settings.retention_days)
        app.state.retention.start()
        yield
        await app.state.retention.stop()
        await app.state.redelivery.stop()
        await app.state.handoff_webhooks.stop()
        await app.state.turns.stop()
        await app.state.live.stop()
        await app.state.rasa.aclose()
        await app.state.session_store.aclose()

    return lifespan


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Console sessions, stored server-side (api/services/sessions.py) and loaded for console paths only.
    store = sessions.make_store(settings.redis_url, settings.redis_key_prefix, lambda: app.state.engine)
    app.state.session_store = store  # closed by the lifespan
    app.add_middleware(SessionAutoloadMiddleware, paths=[sessions.CONSOLE_PATHS])
    app.add_middleware(
        SessionMiddleware,
        store=store,
        lifetime=settings.session_max_age_s,
        cookie_name=sessions.cookie_name(settings.secure_cookies),
        cookie_same_site="strict",
        cookie_https_only=settings.secure_cookies,
    )
    # Edges: keep them last in this function (the last added is the outermost).
    # CORS on the chat API only, for the configured origins of host sites.
    if settings.cors_origins:
        app.add_middleware(ChatCORSMiddleware, origins=settings.cors_origins)
    # Security headers on every response, including CORS preflights, static files and errors.
    docs = (app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url)
    docs_paths = [path for path in docs if path and app.docs_url]
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies, docs_paths=docs_paths)
    # Outermost: behind a trusted proxy, request.client and the scheme become the real client's for everything
    # inside. X-Forwarded-* from any other peer are ignored.
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)


def _add_routes(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    for module in (chat, conversations, ingest, health, demo, pages, console):
        app.include_router(module.router)


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    document_request_errors(app)  # the schema documents the 422 `_validation_error` answers, and the 400
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(LoginRequired, console.login_required)
    app.add_exception_handler(AdminRequired, console.admin_required)
    app.add_exception_handler(CsrfRejected, console.csrf_rejected)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable sentence per problem, e.g. "message: String should have at most 2000 characters"."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    body = ValidationErrorPublic(detail="; ".join(problems), errors=problems)
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=body.model_dump())


async def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        content={"detail": exc.detail},
        headers={"Retry-After": str(exc.retry_after_s)},
    )
