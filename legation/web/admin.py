"""The users page (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from legation.api.deps import SessionDep
from legation.errors import ConflictError, InputError, NotFoundError
from legation.logs import get_logger
from legation.storage.db import transaction
from legation.storage.users import (
    WebUser,
    create_user,
    list_users,
    set_user_disabled,
    set_user_password,
    set_user_role,
)
from legation.web.auth import (
    UserDep,
    form_user,
    read_form,
    require_role,
)
from legation.web.render import DONE, render

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, user: UserDep, done: str = "") -> Response:
    require_role(user, "admin", "manage users")
    return _users(request, session, user, done=DONE.get(done))


def _users(
    request: Request,
    session: Session,
    user: WebUser,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "user": user,
            "users": list_users(session),
            "done": done,
            "error": error,
            "form": form or {},
        },
        status_code=400 if error else 200,
    )


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    form = await read_form(request)
    factory = request.app.state.sessions
    try:
        with transaction(factory) as session:
            user = form_user(request, session, form, "admin", "manage users")
            create_user(
                session,
                username=form.get("username", "").strip(),
                password=form.get("password", ""),
                role=form.get("role", ""),
            )
    except (InputError, ConflictError) as exc:
        form.pop("password", None)
        with factory() as session:
            return _users(request, session, user, error=str(exc), form=form)
    return RedirectResponse("/admin/users?done=user", status_code=303)


@router.post("/admin/users/change")
async def change_user(request: Request) -> Response:
    """Disable or enable a user, change their role, or set a new password (admins only)."""
    form = await read_form(request)
    factory = request.app.state.sessions
    action, name = form.get("action", ""), form.get("username", "")
    try:
        with transaction(factory) as session:
            user = form_user(request, session, form, "admin", "manage users")
            if action in ("disable", "enable"):
                set_user_disabled(
                    session, username=name, disabled=action == "disable", by=user.username
                )
            elif action == "role":
                set_user_role(session, username=name, role=form.get("role", ""), by=user.username)
            elif action == "password":
                set_user_password(session, username=name, password=form.get("password", ""))
            else:
                raise InputError(
                    f"action {action!r} is unknown; use disable, enable, role, password"
                )
    except (InputError, ConflictError, NotFoundError) as exc:
        with factory() as session:
            return _users(request, session, user, error=str(exc))
    log.info("user changed", user=name, action=action, by=user.username)
    return RedirectResponse(f"/admin/users?done=user-{action}", status_code=303)
