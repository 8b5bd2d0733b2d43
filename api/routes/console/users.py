"""Console, admins only: console accounts (create, role, deactivate and reactivate, reset password, sign out
everywhere). Every change is audited; a generated password is shown once, in the answer to the form."""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import SESSION_SIGNED_IN_AT, AdminForm, AdminStaff, SessionDep, client_address
from api.routes.console._pages import flash, not_found, redirect, render
from keepwell import audit, staff
from keepwell.models import utcnow
from keepwell.staff import StaffError, StaffView, UnknownStaff

router = APIRouter(prefix="/console/users", tags=["console"])

UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PasswordChoice = Literal["generate", "type"]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def user_list(request: Request, admin: AdminStaff, session: SessionDep) -> HTMLResponse:
    return _list_page(request, session)


@router.post("", response_class=HTMLResponse, include_in_schema=False, dependencies=AdminForm)
def create_user(
    request: Request,
    admin: AdminStaff,
    session: SessionDep,
    email: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "csm",
    choice: Annotated[PasswordChoice, Form(alias="password_choice")] = "generate",
    password: Annotated[str, Form(max_length=staff.MAX_PASSWORD_LENGTH)] = "",
) -> Response:
    initial = staff.generate_password() if choice == "generate" else password
    try:
        user = staff.create(session, email, initial, role=role, display_name=display_name)
    except StaffError as error:
        session.rollback()
        form = {"email": email, "display_name": display_name, "role": role, "password_choice": choice}
        return _list_page(request, session, error=str(error), form=form, status_code=status.HTTP_400_BAD_REQUEST)
    audit.record(
        session,
        admin,
        "user.create",
        "user",
        user.id,
        {"email": user.username, "role": user.role, "generated": choice == "generate"},
        ip=client_address(request),
    )
    session.commit()
    shown = initial if choice == "generate" else None
    return render(
        request,
        "console_user_password.html",
        {"user": user, "password": shown, "created": True, "nav": "users"},
        status.HTTP_201_CREATED,
    )


@router.get("/{user_id}", response_class=HTMLResponse, include_in_schema=False)
def user_detail(request: Request, user_id: UserId, admin: AdminStaff, session: SessionDep) -> HTMLResponse:
    user = staff.get(session, user_id)
    if user is None:
        return not_found(request, "account")
    return _detail_page(request, session, user)


@router.post("/{user_id}/role", include_in_schema=False, dependencies=AdminForm)
def change_role(
    request: Request,
    user_id: UserId,
    admin: AdminStaff,
    session: SessionDep,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    before = staff.get(session, user_id)
    if before is None:
        return not_found(request, "account")
    if before.id == admin.id:
        return _refuse(request, session, before, "You cannot change your own role; ask another admin.")
    if role == before.role:
        return redirect(f"/console/users/{user_id}")
    try:
        user = staff.set_role(session, user_id, role)
    except StaffError as error:
        session.rollback()
        return _refuse(request, session, before, str(error))
    _audit(request, session, admin, "user.role_change", user, {"from": before.role, "to": user.role})
    flash(request, f"{user.label} is now {staff.ROLE_LABELS[user.role]}.")
    return redirect(f"/console/users/{user_id}")


@router.post("/{user_id}/deactivate", include_in_schema=False, dependencies=AdminForm)
def deactivate_user(request: Request, user_id: UserId, admin: AdminStaff, session: SessionDep) -> Response:
    before = staff.get(session, user_id)
    if before is None:
        return not_found(request, "account")
    if before.id == admin.id:
        return _refuse(request, session, before, "You cannot deactivate your own account; ask another admin.")
    try:
        user = staff.deactivate(session, user_id)
    except StaffError as error:
        session.rollback()
        return _refuse(request, session, before, str(error))
    _audit(request, session, admin, "user.deactivate", user)
    flash(request, f"{user.label} is deactivated and signed out everywhere.")
    return redirect(f"/console/users/{user_id}")


@router.post("/{user_id}/reactivate", include_in_schema=False, dependencies=AdminForm)
def reactivate_user(request: Request, user_id: UserId, admin: AdminStaff, session: SessionDep) -> Response:
    try:
        user = staff.reactivate(session, user_id)
    except UnknownStaff:
        return not_found(request, "account")
    _audit(request, session, admin, "user.reactivate", user)
    flash(request, f"{user.label} can sign in again.")
    return redirect(f"/console/users/{user_id}")


@router.post("/{user_id}/password", response_class=HTMLResponse, include_in_schema=False, dependencies=AdminForm)
def reset_password(
    request: Request,
    user_id: UserId,
    admin: AdminStaff,
    session: SessionDep,
    choice: Annotated[PasswordChoice, Form(alias="password_choice")] = "generate",
    password: Annotated[str, Form(max_length=staff.MAX_PASSWORD_LENGTH)] = "",
) -> Response:
    before = staff.get(session, user_id)
    if before is None:
        return not_found(request, "account")
    new_password = staff.generate_password() if choice == "generate" else password
    try:
        user = staff.set_password(session, user_id, new_password)
    except StaffError as error:
        session.rollback()
        return _refuse(request, session, before, str(error))
    _audit(request, session, admin, "user.password_reset", user, {"generated": choice == "generate"})
    _keep_own_session(request, admin, user)
    shown = new_password if choice == "generate" else None
    return render(request, "console_user_password.html", {"user": user, "password": shown, "nav": "users"})


@router.post("/{user_id}/sessions/revoke", include_in_schema=False, dependencies=AdminForm)
def revoke_sessions(request: Request, user_id: UserId, admin: AdminStaff, session: SessionDep) -> Response:
    try:
        user = staff.revoke_sessions(session, user_id)
    except UnknownStaff:
        return not_found(request, "account")
    _audit(request, session, admin, "session.revoke_all", user)
    _keep_own_session(request, admin, user)
    if user.id == admin.id:
        flash(request, "You are signed out of every other session.")
    else:
        flash(request, f"{user.label} is signed out everywhere.")
    return redirect(f"/console/users/{user_id}")


def _list_page(
    request: Request,
    session: Session,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    context = {
        "users": staff.list_staff(session),
        "roles": staff.ROLE_LABELS,
        "min_password": staff.MIN_PASSWORD_LENGTH,
        "error": error,
        "form": form or {"email": "", "display_name": "", "role": "csm", "password_choice": "generate"},
        "nav": "users",
    }
    return render(request, "console_users.html", context, status_code)


def _detail_page(
    request: Request, session: Session, user: StaffView, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {
        "user": user,
        "roles": staff.ROLE_LABELS,
        "min_password": staff.MIN_PASSWORD_LENGTH,
        "is_self": user.id == getattr(request.state, "staff", user).id,
        "error": error,
        "nav": "users",
    }
    return render(request, "console_user.html", context, status_code)


def _refuse(request: Request, session: Session, user: StaffView, error: str) -> HTMLResponse:
    return _detail_page(request, session, user, error, status.HTTP_400_BAD_REQUEST)


def _audit(
    request: Request,
    session: Session,
    admin: StaffView,
    action: str,
    user: StaffView,
    detail: dict[str, object] | None = None,
) -> None:
    detail = {"email": user.username, **(detail or {})}
    audit.record(session, admin, action, "user", user.id, detail, ip=client_address(request))
    session.commit()


def _keep_own_session(request: Request, admin: StaffView, user: StaffView) -> None:
    """An admin who resets their own password or signs out everywhere stays signed in here (only here)."""
    if user.id == admin.id:
        request.session[SESSION_SIGNED_IN_AT] = utcnow().isoformat()
