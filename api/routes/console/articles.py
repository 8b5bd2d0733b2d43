"""Console: the knowledge base. List and search articles, create and edit them (Markdown with a server-rendered
preview), retire and restore them, reindex in the background, and try a question as the bot would search it.

As in Intercom's help centre, every CSM edits articles (admins too); every change and reindex is audited.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from api.deps import ClientAddress, CurrentStaff, SessionDep, SignedInForm
from api.routes.console._pages import NO_STORE, flash, message, not_found, redirect, render
from api.services.articles import render_markdown
from keepwell import audit
from keepwell.staff import StaffView
from knowledge_base import SearchResult
from knowledge_base.authoring import MAX_BODY, MAX_SUMMARY, MAX_TITLE, ArticleStore, AuthoringError, Draft
from knowledge_base.reindexer import Reindexer
from knowledge_base.store import IndexNotFoundError

router = APIRouter(prefix="/console/articles", tags=["console"])

Title = Annotated[str, Form(max_length=MAX_TITLE * 2)]
Summary = Annotated[str, Form(max_length=MAX_SUMMARY * 2)]
Body = Annotated[str, Form(max_length=MAX_BODY * 2)]
Name = Annotated[str, Form(max_length=200)]
MAX_QUESTION = 500


def _changed(request: Request) -> None:
    """An article file changed: the help centre in this process shows it at once (others within seconds)."""
    request.app.state.help_centre.refresh()


def _store(request: Request) -> ArticleStore:
    store: ArticleStore = request.app.state.article_store
    return store


def _reindexer(request: Request) -> Reindexer:
    reindexer: Reindexer = request.app.state.reindexer
    return reindexer


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def articles_page(
    request: Request,
    staff: CurrentStaff,
    q: Annotated[str, Query(max_length=200)] = "",
    ask: Annotated[str, Query(max_length=MAX_QUESTION)] = "",
) -> HTMLResponse:
    store = _store(request)
    result: SearchResult | None = None
    ask_error = ""
    kb = None
    if ask.strip():
        kb = _reindexer(request).knowledge_base()
        try:
            if not kb.ready:
                kb.load_stored()  # the index the bot answers from, as it is: never an implicit rebuild here
            result = kb.search(ask)
        except IndexNotFoundError:
            ask_error = "There is no index yet: press Reindex first."
        except Exception as error:  # an unusable index or a missing model: say so, never a 500
            ask_error = f"The knowledge base cannot answer: {error}"
    context = {
        "nav": "articles",
        "articles": store.list(q),
        "q": q,
        "ask": ask,
        "result": result,
        "ask_error": ask_error,
        "min_score": kb.min_score if kb else None,
        "margin": kb.ambiguity_margin if kb else None,
        "reindex": _reindexer(request).status(),
    }
    return render(request, "console_articles.html", context)


@router.get("/new", response_class=HTMLResponse, include_in_schema=False)
def new_article(request: Request, staff: CurrentStaff) -> HTMLResponse:
    return _form(request, Draft("", "", "", "", ""), creating=True)


@router.post("/new", include_in_schema=False, dependencies=SignedInForm)
def create_article(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    ip: ClientAddress,
    category: Name = "",
    slug: Name = "",
    title: Title = "",
    summary: Summary = "",
    body: Body = "",
) -> Response:
    draft = Draft(category, slug, title, summary, body)
    try:
        info = _store(request).create(draft)
    except AuthoringError as error:
        return _form(request, draft, creating=True, error=error)
    _changed(request)
    audit.record(session, staff, "article.create", "article", info.id, {"title": info.title}, ip=ip)
    session.commit()
    flash(request, f"Created “{info.title}”. Reindex to let the bot use it.")
    return redirect(f"/console/articles/{info.category}/{info.slug}")


@router.post("/preview", include_in_schema=False, dependencies=SignedInForm)
def preview(staff: CurrentStaff, body: Body = "") -> JSONResponse:
    """The body rendered exactly as the help centre renders it (markdown-it, then sanitised by nh3)."""
    return JSONResponse({"html": render_markdown(body)}, headers=NO_STORE)


@router.post("/reindex", include_in_schema=False, dependencies=SignedInForm)
def reindex(request: Request, staff: CurrentStaff, session: SessionDep, ip: ClientAddress) -> Response:
    started = _reindexer(request).start(staff.username)
    if started:
        audit.record(session, staff, "article.reindex", "knowledge_base", None, {}, ip=ip)
        session.commit()
        flash(request, "Reindexing: only changed articles are encoded again.")
    else:
        flash(request, "A reindex is already running.")
    return redirect("/console/articles#reindex")


@router.get("/reindex/status", include_in_schema=False)
def reindex_status(request: Request, staff: CurrentStaff) -> JSONResponse:
    return JSONResponse(_reindexer(request).status().as_dict(), headers=NO_STORE)


@router.get("/{category}/{slug}", response_class=HTMLResponse, include_in_schema=False)
def edit_article(request: Request, staff: CurrentStaff, category: str, slug: str) -> HTMLResponse:
    try:
        found = _store(request).get(category, slug)
    except AuthoringError as error:
        return message(request, status.HTTP_422_UNPROCESSABLE_CONTENT, "Unreadable article", str(error))
    if found is None:
        return not_found(request, "article")
    return _form(request, found.draft, creating=False, version=found.info.version, retired=found.info.retired)


@router.post("/{category}/{slug}", include_in_schema=False, dependencies=SignedInForm)
def update_article(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    ip: ClientAddress,
    category: str,
    slug: str,
    title: Title = "",
    summary: Summary = "",
    body: Body = "",
    version: Name = "",
) -> Response:
    store = _store(request)
    try:
        found = store.get(category, slug)
    except AuthoringError as error:
        return message(request, status.HTTP_422_UNPROCESSABLE_CONTENT, "Unreadable article", str(error))
    if found is None:
        return not_found(request, "article")
    draft = Draft(category, slug, title, summary, body)
    try:
        info = store.update(draft, version)
    except AuthoringError as error:
        return _form(request, draft, creating=False, version=version, retired=found.info.retired, error=error)
    _changed(request)
    audit.record(session, staff, "article.update", "article", info.id, {"title": info.title}, ip=ip)
    session.commit()
    flash(request, f"Saved “{info.title}”. Reindex to let the bot use the change.")
    return redirect(f"/console/articles/{category}/{slug}")


@router.post("/{category}/{slug}/retire", include_in_schema=False, dependencies=SignedInForm)
def retire_article(
    request: Request, staff: CurrentStaff, session: SessionDep, ip: ClientAddress, category: str, slug: str
) -> Response:
    return _set_retired(request, staff, session, ip, category, slug, retired=True)


@router.post("/{category}/{slug}/restore", include_in_schema=False, dependencies=SignedInForm)
def restore_article(
    request: Request, staff: CurrentStaff, session: SessionDep, ip: ClientAddress, category: str, slug: str
) -> Response:
    return _set_retired(request, staff, session, ip, category, slug, retired=False)


def _set_retired(
    request: Request,
    staff: StaffView,
    session: Session,
    ip: str,
    category: str,
    slug: str,
    *,
    retired: bool,
) -> Response:
    try:
        info = _store(request).set_retired(category, slug, retired)
    except AuthoringError as error:
        return message(request, status.HTTP_422_UNPROCESSABLE_CONTENT, "Unreadable article", str(error))
    if info is None:
        return not_found(request, "article")
    _changed(request)
    action = "article.retire" if retired else "article.restore"
    audit.record(session, staff, action, "article", info.id, {"title": info.title}, ip=ip)
    session.commit()
    what = "Retired: it leaves the help centre now and the bot after the next reindex." if retired else "Restored."
    flash(request, f"“{info.title}”: {what}")
    return redirect(f"/console/articles/{category}/{slug}")


def _form(
    request: Request,
    draft: Draft,
    *,
    creating: bool,
    version: str = "",
    retired: bool = False,
    error: AuthoringError | None = None,
) -> HTMLResponse:
    context = {
        "nav": "articles",
        "draft": draft,
        "creating": creating,
        "version": version,
        "retired": retired,
        "categories": _store(request).categories(),
        "error": str(error) if error else "",
        "error_field": error.field if error else "",
        "preview": render_markdown(draft.body) if draft.body else "",
    }
    return render(request, "console_article_edit.html", context, status.HTTP_400_BAD_REQUEST if error else 200)
