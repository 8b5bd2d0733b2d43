"""Console addresses that are not pages. `/console/conversations` (the list; the inbox lives at `/console`) goes to
the inbox with its query. Any other unknown console page is the console's own "not found" page for a signed-in
CSM, and the sign-in page for anyone else, so the console does not tell strangers which pages exist. The router
is included last: its catch-all would hide every console page added after it."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import CurrentStaff
from api.routes.console._pages import not_found, redirect

router = APIRouter(prefix="/console", tags=["console"])


@router.get("/conversations", include_in_schema=False)
def conversation_list(request: Request, _staff: CurrentStaff) -> RedirectResponse:
    query = request.url.query
    return redirect(f"/console?{query}" if query else "/console")


@router.get("/{path:path}", response_class=HTMLResponse, include_in_schema=False)
def unknown_page(request: Request, _staff: CurrentStaff, path: str) -> HTMLResponse:
    return not_found(request, "page")
