"""What every console page shares: rendering with the signed-in account and CSRF token, redirects, flash notes,
safe `next` targets, and the pages for "sign in first", "admins only", "form expired" and "too many attempts"."""

import re
from typing import Any
from urllib.parse import quote

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import AdminRequired, csrf_token
from keepwell.staff import StaffView

_FLASH = "flash"
# A console path, optionally with a query, in printable ASCII without spaces or backslashes (which some
# browsers read as "/"); "//" is refused separately. No scheme or host can match.
_LOCAL_CONSOLE_PATH = re.compile(r"^/console(?:[/?][\x21-\x5b\x5d-\x7e]*)?$")
# Pages that show a password once, and every console page really, must not be kept by caches or the back button.
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: `target` when it is a console path on this site, else the console home.

    Anything else (another host, `//host`, a scheme, a non-console path) is refused so the login form
    cannot be used as an open redirect.
    """
    if target and _LOCAL_CONSOLE_PATH.match(target) and "//" not in target:
        return target
    return "/console"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a console page with the signed-in account (set by the `CurrentStaff` dependency), the CSRF token
    its forms carry, and the flash note left by the previous action, shown once."""
    page = {
        "csrf": csrf_token(request),
        "staff": getattr(request.state, "staff", None),
        "flash": request.session.pop(_FLASH, None),
        **(context or {}),
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, page, status_code=status_code, headers={**NO_STORE, **(headers or {})}
    )
    return response


def flash(request: Request, message: str) -> None:
    """Leave a short note for the next page (never a password: the session is stored server-side, but still)."""
    request.session[_FLASH] = message


def address(path: str, *query_parts: str) -> str:
    """`path` with the non-empty query parts joined: `address("/console", "review=new", "")` is
    "/console?review=new", and with no parts, the bare path."""
    parts = [part for part in query_parts if part]
    return path + ("?" + "&".join(parts) if parts else "")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def not_found(request: Request, what: str) -> HTMLResponse:
    return render(request, "console_not_found.html", {"what": what}, status.HTTP_404_NOT_FOUND)


def message(
    request: Request, status_code: int, title: str, text: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A page that only says something (refusals, limits)."""
    return render(request, "console_message.html", {"title": title, "text": text}, status_code, headers)


def too_many_attempts(request: Request, retry_after_s: int) -> HTMLResponse:
    minutes = max(1, round(retry_after_s / 60))
    wait = f"{retry_after_s} seconds" if retry_after_s < 90 else f"about {minutes} minutes"
    return message(
        request,
        status.HTTP_429_TOO_MANY_REQUESTS,
        "Too many sign-in attempts",
        f"Too many sign-in attempts. Wait {wait}, then try again.",
        {"Retry-After": str(retry_after_s)},
    )


async def login_required(request: Request, _exc: Exception) -> Response:
    """No valid session: pages redirect to the login form (and back afterwards); other requests are refused."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/console/login?next={quote(safe_next(target), safe='/')}")
    return message(
        request,
        status.HTTP_401_UNAUTHORIZED,
        "Signed out",
        "You are not signed in, or your session has ended. Sign in again, then repeat what you were doing.",
    )


async def admin_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminRequired)
    request.state.staff = exc.staff
    return message(request, status.HTTP_403_FORBIDDEN, "Admins only", "Only an admin can open this page or do this.")


async def csrf_rejected(request: Request, _exc: Exception) -> Response:
    return message(
        request, status.HTTP_403_FORBIDDEN, "The form expired", "The form expired; reload the page and try again."
    )


def staff_of(request: Request) -> StaffView | None:
    return getattr(request.state, "staff", None)
