"""Public pages: the Orbitly demo site with the chat widget, the in-app demo and the help centre."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse

from api.services.articles import HelpCentre

router = APIRouter(tags=["pages"])

# Categories and slugs are folder and file names of the knowledge base: lower-case words joined by hyphens.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Also the order of the help centre, from a new user's first steps to fixing problems; unknown categories go last.
CATEGORY_LABELS = {
    "getting-started": "Getting started",
    "features": "Features",
    "integrations": "Integrations",
    "admin-security": "Admin & security",
    "billing": "Plans & billing",
    "troubleshooting": "Troubleshooting",
}
WIDGET_TITLE = "Orbitly support"
ANONYMOUS_GREETING = (
    "Hi! I'm Orbitly's assistant. Ask me how to do something in Orbitly, about plans and billing, "
    "or to talk to a person."
)


def category_label(category: str) -> str:
    """Human name of a knowledge-base category; unknown folders get their name in sentence case."""
    return CATEGORY_LABELS.get(category, category.replace("-", " ").capitalize())


def _render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context or {}, status_code=status_code)


def _widget(greeting: str = ANONYMOUS_GREETING) -> dict[str, str]:
    # Handed to the page's init script through data attributes: the pages carry no inline script.
    return {"title": WIDGET_TITLE, "greeting": greeting}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    return _render(request, "home.html", {"widget": _widget()})


@router.get("/app", response_class=HTMLResponse, include_in_schema=False)
def in_app(request: Request) -> HTMLResponse:
    return _render(request, "app.html", {"widget": _widget()})


@router.get("/help", response_class=HTMLResponse, include_in_schema=False)
def help_index(request: Request) -> HTMLResponse:
    help_centre: HelpCentre = request.app.state.help_centre
    order = list(CATEGORY_LABELS)
    grouped = sorted(
        help_centre.by_category().items(),
        key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]),
    )
    categories = [
        {"slug": category, "label": category_label(category), "articles": articles} for category, articles in grouped
    ]
    return _render(request, "help_index.html", {"categories": categories, "widget": _widget()})


@router.get("/help/{category}/{slug}", response_class=HTMLResponse, include_in_schema=False)
def help_article(
    request: Request,
    category: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=80)],
    slug: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120)],
) -> HTMLResponse:
    help_centre: HelpCentre = request.app.state.help_centre
    article = help_centre.get(category, slug)
    if article is None:
        return _render(request, "not_found.html", {"widget": _widget()}, status.HTTP_404_NOT_FOUND)
    context = {"article": article, "category_label": category_label(article.category), "widget": _widget()}
    return _render(request, "help_article.html", context)
