"""Console: unanswered questions. The customer messages the assistant did not understand over a period, clustered by
meaning (`keepwell.conversations.unanswered`); from a cluster a CSM drafts a knowledge-base article (created through
the article store, then an incremental reindex the bot picks up within seconds) or adds the questions to an intent
as training examples. Both mark the cluster's messages handled and are audited (`unanswered.article`,
`unanswered.intent`)."""

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import ClientAddress, CurrentStaff, SessionDep, SettingsDep, SignedInForm
from api.routes.console._charts import Chart, Series, csv_response, specs
from api.routes.console._pages import flash, redirect, render
from api.routes.console.articles import Body, Name, Summary, Title
from api.services.articles import render_markdown
from keepwell import audit
from keepwell.conversations import training, unanswered
from keepwell.conversations.unanswered import Report, UnansweredError
from knowledge_base.authoring import MAX_SLUG, ArticleStore, AuthoringError, Draft
from knowledge_base.reindexer import Reindexer

router = APIRouter(prefix="/console/unanswered", tags=["console"])
logger = logging.getLogger(__name__)

Days = Annotated[int, Query(ge=1, le=366)]
# A cluster's message ids as the page sends them (hidden inputs, or the checked boxes).
MessageIds = Annotated[list[int], Form(alias="message", max_length=unanswered.MAX_MESSAGES)]
QuestionLines = Annotated[str, Form(max_length=20_000)]
MAX_ARTICLE_QUESTIONS = 20  # customer phrasings written into the article's front matter


def _reindexer(request: Request) -> Reindexer:
    reindexer: Reindexer = request.app.state.reindexer
    return reindexer


def _report(request: Request, session: Session, days: int) -> Report:
    # The knowledge base's own encoder: the model loads on the first view, never at start-up.
    encoder = _reindexer(request).knowledge_base().embedder
    found = unanswered.report(session, encoder, days)
    session.commit()  # vectors encoded for this view are kept for the next
    return found


def _charts(found: Report) -> list[Chart]:
    header = "Week" if found.days > 31 else "Day"
    return [
        Chart(
            id=f"cluster-{n}", title="Trend", type="bar", label_header=header, labels=[b for b, _ in cluster.trend],
            series=[Series("Questions", [c for _, c in cluster.trend])],
        )
        for n, cluster in enumerate(found.clusters, start=1)
    ]  # fmt: skip


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def unanswered_page(request: Request, staff: CurrentStaff, session: SessionDep, days: Days = 30) -> HTMLResponse:
    context: dict[str, object] = {"nav": "unanswered", "days": days, "periods": unanswered.PERIODS}
    try:
        found = _report(request, session, days)
    except UnansweredError as error:
        return render(request, "console_unanswered.html", {**context, "error": str(error)}, 422)
    except Exception as error:  # a missing or broken model: say so, never a 500
        session.rollback()
        logger.exception("Unanswered questions could not be clustered")
        return render(request, "console_unanswered.html", {**context, "error": f"Cannot cluster: {error}"}, 503)
    charts = _charts(found)
    context.update(
        report=found, charts=charts, chart_data=specs(charts), intents=training.domain_intents(),
        examples=unanswered.EXAMPLES,
    )  # fmt: skip
    return render(request, "console_unanswered.html", context)


@router.get("/trend.csv", include_in_schema=False)
def trend_csv(request: Request, staff: CurrentStaff, session: SessionDep, days: Days = 30) -> Response:
    """Every cluster's trend in one table: a row per cluster (its label), a column per day or week."""
    try:
        found = _report(request, session, days)
    except UnansweredError as error:
        return Response(str(error), status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="text/plain")
    buckets = [bucket for bucket, _ in found.clusters[0].trend] if found.clusters else []
    chart = Chart(
        id="unanswered", title="Unanswered questions", type="table", label_header="Question",
        labels=[cluster.label for cluster in found.clusters],
        series=[Series(b, [cluster.trend[i][1] for cluster in found.clusters]) for i, b in enumerate(buckets)],
    )  # fmt: skip
    return csv_response(chart, f"keepwell-unanswered-{days}-days.csv")


@router.post("/draft", response_class=HTMLResponse, include_in_schema=False, dependencies=SignedInForm)
def draft_article(
    request: Request, staff: CurrentStaff, session: SessionDep,
    message: Annotated[list[int], Form(max_length=unanswered.MAX_MESSAGES)] = [],  # noqa: B006
    days: Annotated[int, Form(ge=1, le=366)] = 30,
) -> Response:  # fmt: skip
    """The article editor, prefilled from the cluster: its label as the title, its wordings as the questions.
    A form post, not a link: a large cluster's message ids would not fit in a URL."""
    try:
        questions = unanswered.open_questions(session, message)
    except UnansweredError as error:
        flash(request, str(error))
        return redirect(f"/console/unanswered?days={days}")
    texts = _distinct([q.text for q in questions])
    title = _title(texts[0]) if texts else ""
    draft = Draft("", _slug(title), title, "", "")
    return _form(request, draft, [q.message_id for q in questions], "\n".join(texts[:MAX_ARTICLE_QUESTIONS]), days)


@router.post("/article", include_in_schema=False, dependencies=SignedInForm)
def create_article(
    request: Request, staff: CurrentStaff, session: SessionDep, ip: ClientAddress, message: MessageIds,
    category: Name = "", slug: Name = "", title: Title = "", summary: Summary = "", body: Body = "",
    questions: QuestionLines = "", days: Annotated[int, Form(ge=1, le=366)] = 30,
) -> Response:  # fmt: skip
    draft = Draft(category, slug, title, summary, body)
    asked = _distinct(questions.splitlines())
    if len(asked) > MAX_ARTICLE_QUESTIONS:
        error = AuthoringError("questions", f"Questions: at most {MAX_ARTICLE_QUESTIONS}, one per line.")
        return _form(request, draft, message, questions, days, error)
    store: ArticleStore = request.app.state.article_store
    try:
        unanswered.open_questions(session, message)  # before writing anything: still open, really unanswered
        info = store.create(draft, asked)
    except UnansweredError as error:
        return _form(request, draft, message, questions, days, AuthoringError("questions", str(error)))
    except AuthoringError as error:
        return _form(request, draft, message, questions, days, error)
    try:
        handled = unanswered.mark_handled(session, message, "article", info.id, staff.username)
    except UnansweredError:  # another CSM handled them between the check and now: the article stands
        session.rollback()
        handled = 0
    audit.record(
        session, staff, "unanswered.article", "article", info.id,
        {"title": info.title, "questions": handled, "message_ids": sorted(set(message))}, ip=ip,
    )  # fmt: skip
    session.commit()
    request.app.state.help_centre.refresh()
    _reindexer(request).start(staff.username, again=True)
    flash(request, f"Created “{info.title}” from {handled} question{'s' * (handled != 1)}; "
                   "the knowledge base is reindexing and the bot answers with it in a few seconds.")  # fmt: skip
    return redirect(f"/console/unanswered?days={days}")


@router.post("/intent", include_in_schema=False, dependencies=SignedInForm)
def add_to_intent(
    request: Request, staff: CurrentStaff, session: SessionDep, settings: SettingsDep, ip: ClientAddress,
    message: MessageIds, intent: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[int, Form(ge=1, le=366)] = 30,
) -> Response:  # fmt: skip
    back = redirect(f"/console/unanswered?days={days}")
    try:
        questions = unanswered.open_questions(session, message)
        for question in questions:
            training.add(session, question.message_id, intent, staff.username)
        handled = unanswered.mark_handled(session, message, "intent", intent, staff.username)
    except (UnansweredError, training.ExampleError) as error:
        session.rollback()  # all the questions or none
        flash(request, f"Nothing added: {error}")
        return back
    audit.record(
        session, staff, "unanswered.intent", "intent", intent,
        {"questions": handled, "message_ids": sorted(set(message))}, ip=ip,
    )  # fmt: skip
    session.commit()
    written = training.rewrite_nlu_file(session, settings.data_dir)
    flash(request, f"Added {handled} question{'s' * (handled != 1)} as training examples of {intent}; "
                   + ("the next training uses them." if written else
                      "the NLU file could not be written: download nlu-examples.yml instead."))  # fmt: skip
    return back


def _distinct(lines: list[str]) -> list[str]:
    seen, kept = set(), []
    for line in lines:
        text = " ".join(line.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return kept


def _title(question: str) -> str:
    """A customer's question as a starting title: capitalised, without a trailing question mark."""
    text = question.rstrip(" ?!.")[:200]
    return text[:1].upper() + text[1:]


def _slug(title: str) -> str:
    """A starting slug from the title: lower-case words joined by hyphens, within the store's limit."""
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))[:MAX_SLUG].strip("-")


def _form(
    request: Request, draft: Draft, message_ids: list[int], questions: str, days: int,
    error: AuthoringError | None = None,
) -> HTMLResponse:  # fmt: skip
    context = {
        "nav": "unanswered",
        "draft": draft,
        "creating": True,
        "version": "",
        "retired": False,
        "categories": request.app.state.article_store.categories(),
        "error": str(error) if error else "",
        "error_field": error.field if error else "",
        "preview": render_markdown(draft.body) if draft.body else "",
        "form_action": "/console/unanswered/article",
        "message_ids": sorted(set(message_ids)),
        "questions": questions,
        "days": days,
    }
    return render(request, "console_article_edit.html", context, status.HTTP_400_BAD_REQUEST if error else 200)
