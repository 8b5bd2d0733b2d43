"""Console: each CSM's saved inbox views: save the inbox's current filters under a name, open one, delete one. A CSM
only ever reaches their own views (anyone else's is a 404). Saving and deleting are audited."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from api.deps import CurrentStaff, SessionDep, SignedInForm, client_address
from api.routes.console._pages import address, flash, not_found, redirect
from keepwell import audit
from keepwell.conversations import saved_views

router = APIRouter(prefix="/console/views", tags=["console"])

ViewId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _inbox_url(query: str, view_id: int | None = None) -> str:
    return address("/console", query, f"view={view_id}" if view_id else "")


@router.post("", include_in_schema=False, dependencies=SignedInForm)
def save_view(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    name: Annotated[str, Form(max_length=400)] = "",
    query: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        view = saved_views.save(session, staff.id, name, query)
    except saved_views.ViewError as error:
        session.rollback()
        flash(request, str(error))
        return redirect(_inbox_url(query))
    audit.record(
        session,
        staff,
        "inbox_view.save",
        "saved_view",
        view.id,
        {"name": view.name, "query": view.query},
        ip=client_address(request),
    )
    session.commit()
    flash(request, f"Saved the view “{view.name}”.")
    return redirect(_inbox_url(view.query, view.id))


@router.get("/{view_id}", include_in_schema=False)
def open_view(request: Request, view_id: ViewId, staff: CurrentStaff, session: SessionDep) -> Response:
    try:
        view = saved_views.get_mine(session, staff.id, view_id)
    except saved_views.ViewNotFound:
        return not_found(request, "saved view")
    return redirect(_inbox_url(view.query, view.id))


@router.post("/{view_id}/delete", include_in_schema=False, dependencies=SignedInForm)
def delete_view(request: Request, view_id: ViewId, staff: CurrentStaff, session: SessionDep) -> Response:
    try:
        view = saved_views.delete_mine(session, staff.id, view_id)
    except saved_views.ViewNotFound:
        return not_found(request, "saved view")
    audit.record(
        session, staff, "inbox_view.delete", "saved_view", view.id, {"name": view.name}, ip=client_address(request)
    )
    session.commit()
    flash(request, f"Deleted the view “{view.name}”.")
    return redirect("/console")
