"""Console, admins only: export conversations (CSV or JSON, streamed) chosen here or by the inbox's filters ("Export
these" on the inbox), erase one customer everywhere (confirmed by typing their id), and the retention setting. Each
export (with its filter) and erasure is audited; as in Chatwoot, where exports are an administrator's, a CSM is
refused (403)."""

from datetime import date
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from api.deps import AdminForm, AdminStaff, SessionDep, SettingsDep, client_address
from api.routes.console._pages import NO_STORE, flash, redirect, render
from keepwell import audit
from keepwell.conversations import filters, training
from keepwell.identity import is_customer_id
from keepwell.models import utcnow
from keepwell.privacy import export, retention
from keepwell.privacy.erasure import ErasureError, erase_customer
from keepwell.staff import StaffView

router = APIRouter(prefix="/console/privacy", tags=["console"])

Day = Annotated[str, Form(max_length=10)]
CustomerField = Annotated[str, Form(max_length=200)]
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
Format = Annotated[Literal["csv", "json"], Form(alias="format")]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def privacy_page(request: Request, admin: AdminStaff, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    return _page(request, session, settings.retention_days)


@router.post("/export", include_in_schema=False, dependencies=AdminForm)
def export_conversations(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    settings: SettingsDep,
    since: Annotated[str, Form(alias="from", max_length=10)] = "",
    until: Annotated[str, Form(alias="to", max_length=10)] = "",
    channel: Annotated[str, Form(max_length=16)] = "",
    customer_id: CustomerField = "",
    fmt: Format = "csv",
) -> Response:
    form = {"from": since, "to": until, "channel": channel, "customer_id": customer_id.strip(), "format": fmt}
    try:
        selection = export.ExportFilter(
            since=_day(since, "From"),
            until=_day(until, "To"),
            channel=channel or None,
            customer_id=_customer(customer_id) if customer_id.strip() else None,
        )
    except export.ExportError as error:
        return _page(request, session, settings.retention_days, export_error=str(error), export_form=form)
    return _stream(request, admin, session, selection, fmt)


@router.post("/export/inbox", include_in_schema=False, dependencies=AdminForm)
def export_inbox(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[str, Form(max_length=4000)] = "",
    fmt: Format = "csv",
) -> Response:
    """The conversations the inbox lists for its filters (`query`, the inbox's query string), all of them: the
    export streams a batch at a time, so its size is bounded by the log, not by memory."""
    try:
        chosen = filters.parse(parse_qsl(query))
    except filters.InvalidFilter as error:
        message = f"The inbox's filters cannot be exported: {error}."
        return _page(request, session, settings.retention_days, export_error=message)
    return _stream(request, admin, session, export.ExportFilter(inbox=chosen), fmt)


def _stream(
    request: Request, admin: StaffView, session: Session, selection: export.ExportFilter, fmt: str
) -> StreamingResponse:
    """Audit the export (its filter and size) and stream it as a download."""
    conversations, messages = export.count(session, selection)
    detail = {"filter": selection.describe(), "format": fmt, "conversations": conversations, "messages": messages}
    audit.record(session, admin, "conversation.export", "conversation", None, detail, ip=client_address(request))
    session.commit()
    engine = request.app.state.engine
    chunks = export.csv_chunks(engine, selection) if fmt == "csv" else export.json_chunks(engine, selection)
    filename = f"keepwell-conversations-{utcnow():%Y%m%d-%H%M%S}.{fmt}"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type=MEDIA[fmt], headers=headers)


@router.post("/erase", response_class=HTMLResponse, include_in_schema=False, dependencies=AdminForm)
def erase(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    settings: SettingsDep,
    customer_id: CustomerField = "",
    confirm: CustomerField = "",
) -> Response:
    customer_id = customer_id.strip()
    if not customer_id or confirm.strip() != customer_id:
        error = "Type the customer's id again, exactly, to confirm the erasure."
        return _page(request, session, settings.retention_days, erase_error=error, erase_form=customer_id)
    try:
        report = erase_customer(session, request.app.state.tracker_engine, customer_id, settings.internal_secret)
    except ErasureError as error:
        session.rollback()
        return _page(request, session, settings.retention_days, erase_error=str(error), erase_form=customer_id)
    audit.record(
        session, admin, "customer.erase", "customer", report.subject, report.as_detail(), ip=client_address(request)
    )
    session.commit()
    unwritten = ""
    # The file `make train` reads holds their words too.
    if report.rows.get("training_examples") and not training.rewrite_nlu_file(session, settings.data_dir):
        unwritten = (
            " The training examples file could not be rewritten: check the data folder, then add or remove an "
            "example to write it again."
        )
    # The note names the audit reference, never the id: flashes are kept in the server-side session store.
    if report.found_anything:
        rows = sum(report.rows.values())
        flash(
            request,
            f"Erased: {report.conversations} conversations, {rows} rows in all, {report.tracker_events} tracker "
            f"events, {report.audit_entries_scrubbed} audit entries scrubbed. The audit log names it "
            f"{report.subject}.{unwritten}",
        )
    else:
        flash(request, f"Nothing was stored under that id (already erased?). Recorded as {report.subject}.")
    return redirect("/console/privacy")


def _page(
    request: Request,
    session: Session,
    retention_days: int,
    *,
    export_error: str | None = None,
    export_form: dict[str, str] | None = None,
    erase_error: str | None = None,
    erase_form: str = "",
) -> HTMLResponse:
    due = None
    if retention_days > 0:
        due = retention.count_due(session, retention.cutoff(utcnow(), retention_days))
    context = {
        "channels": export.CHANNELS,
        "export_error": export_error,
        "export_form": export_form or {"from": "", "to": "", "channel": "", "customer_id": "", "format": "csv"},
        "erase_error": erase_error,
        "erase_form": erase_form,
        "retention_days": retention_days,
        "retention_due": due,
        "nav": "privacy",
    }
    failed = export_error or erase_error
    return render(request, "console_privacy.html", context, status.HTTP_400_BAD_REQUEST if failed else 200)


def _day(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise export.ExportError(f"{label}: enter a date as YYYY-MM-DD.") from None


def _customer(value: str) -> str:
    if not is_customer_id(value.strip()):
        raise export.ExportError("Customer: enter a customer id (letters, digits and _ . : @ -).")
    return value.strip()
