"""Console, admins only: API keys for the company's own systems (list, create, revoke). A new key is shown once, in
the answer to the form; only its hash is kept. Every creation and revocation is audited."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import AdminForm, AdminStaff, SessionDep, client_address
from api.routes.console._pages import flash, not_found, redirect, render
from keepwell import api_keys, audit
from keepwell.api_keys import ApiKeyError, ApiKeyView, UnknownApiKey

router = APIRouter(prefix="/console/api-keys", tags=["console"])

KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def key_list(request: Request, admin: AdminStaff, session: SessionDep) -> HTMLResponse:
    return _list_page(request, session)


@router.post("", response_class=HTMLResponse, include_in_schema=False, dependencies=AdminForm)
def create_key(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 - FastAPI copies form defaults
) -> Response:
    try:
        created = api_keys.create(session, name, admin, tuple(scopes))
    except ApiKeyError as error:
        session.rollback()
        form = {"name": name, "scopes": scopes}
        return _list_page(request, session, str(error), form, status.HTTP_400_BAD_REQUEST)
    _audit(request, session, admin, "api_key.create", created.view)
    return render(
        request,
        "console_api_key_created.html",
        {"key": created.view, "plain_key": created.key, "nav": "api_keys"},
        status.HTTP_201_CREATED,
    )


@router.get("/{key_id}/revoke", response_class=HTMLResponse, include_in_schema=False)
def confirm_revoke(request: Request, key_id: KeyId, admin: AdminStaff, session: SessionDep) -> HTMLResponse:
    key = api_keys.get(session, key_id)
    if key is None:
        return not_found(request, "API key")
    if not key.active:
        flash(request, f"{key.name} ({key.prefix}…) is already revoked.")
        return redirect("/console/api-keys")  # type: ignore[return-value]
    return render(request, "console_api_key_revoke.html", {"key": key, "nav": "api_keys"})


@router.post("/{key_id}/revoke", include_in_schema=False, dependencies=AdminForm)
def revoke_key(request: Request, key_id: KeyId, admin: AdminStaff, session: SessionDep) -> Response:
    before = api_keys.get(session, key_id)
    if before is None:
        return not_found(request, "API key")
    if not before.active:
        flash(request, f"{before.name} ({before.prefix}…) is already revoked.")
        return redirect("/console/api-keys")
    try:
        key = api_keys.revoke(session, key_id, admin)
    except UnknownApiKey:
        return not_found(request, "API key")
    _audit(request, session, admin, "api_key.revoke", key)
    flash(request, f"{key.name} ({key.prefix}…) is revoked: calls with it are refused from now on.")
    return redirect("/console/api-keys")


def _list_page(
    request: Request,
    session: Session,
    error: str | None = None,
    form: dict[str, object] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    context = {
        "keys": api_keys.list_keys(session),
        "scopes": api_keys.SCOPES,
        "max_name": api_keys.MAX_NAME_LENGTH,
        "error": error,
        "form": form or {"name": "", "scopes": list(api_keys.SCOPES)},
        "nav": "api_keys",
    }
    return render(request, "console_api_keys.html", context, status_code)


def _audit(request: Request, session: Session, admin: AdminStaff, action: str, key: ApiKeyView) -> None:
    detail = {"name": key.name, "prefix": key.prefix, "scopes": list(key.scopes)}
    audit.record(session, admin, action, "api_key", key.id, detail, ip=client_address(request))
    session.commit()
