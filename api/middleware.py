"""The gateway's edge middleware: security headers on every response, and CORS for the chat API only.

Both are plain ASGI middleware (not `BaseHTTPMiddleware`), so streamed responses such as server-sent events pass
through untouched apart from their first message's headers.
"""

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(frame_ancestors: str) -> str:
    # No inline script or style anywhere: pages pass data to scripts through data attributes, styles live in
    # /static. Style changes made through the CSSOM (element.style.height = ...) are not inline styles.
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


PAGE_POLICY = _policy("'self'")
CONSOLE_POLICY = _policy("'none'")
# FastAPI's /docs and /redoc pages (demo mode only) run an inline script and load Swagger UI / ReDoc from a CDN.
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains, which would bind the operator's other hosts

CONSOLE_PREFIX = "/console"
CHAT_API_PATHS = ("/api/chat",)
CHAT_API_PREFIXES = ("/api/conversations/",)


def _is_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def is_chat_api(path: str) -> bool:
    """Whether a path belongs to the API a widget on another origin calls (chat, history, live events)."""
    return path in CHAT_API_PATHS or path.startswith(CHAT_API_PREFIXES)


class SecurityHeadersMiddleware:
    """Adds a Content-Security-Policy, nosniff, a referrer policy, framing rules and (with Secure cookies) HSTS to
    every HTTP response: pages, API, static files and errors. A header a route set itself is left as it is.

    Args:
        hsts: send Strict-Transport-Security (the gateway is served over HTTPS, i.e. cookies are Secure).
        docs_paths: the API documentation pages, which get a policy that lets Swagger UI and ReDoc run.
    """

    def __init__(self, app: ASGIApp, hsts: bool = False, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_paths = frozenset(docs_paths)

    def headers_for(self, path: str) -> dict[str, str]:
        if _is_console(path):
            policy, frame_options, referrer = CONSOLE_POLICY, "DENY", "same-origin"
        elif path in self.docs_paths:
            policy, frame_options, referrer = DOCS_POLICY, "DENY", "strict-origin-when-cross-origin"
        else:
            policy, frame_options, referrer = PAGE_POLICY, "SAMEORIGIN", "strict-origin-when-cross-origin"
        headers = {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": frame_options,
            "Referrer-Policy": referrer,
        }
        if self.hsts:
            headers["Strict-Transport-Security"] = HSTS
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ChatCORSMiddleware:
    """Starlette's CORS middleware on the chat API paths only; the console, pages, health and demo endpoints get
    no CORS headers at all, so other origins can never read them.

    The widget proves identity with a bearer token, never cookies, so credentials are not allowed.
    """

    def __init__(self, app: ASGIApp, origins: Collection[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=("GET", "POST"),
            allow_headers=("Authorization", "Content-Type", "Last-Event-ID"),
            allow_credentials=False,
            expose_headers=("Retry-After",),  # the widget reads it on a 429
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_chat_api(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
