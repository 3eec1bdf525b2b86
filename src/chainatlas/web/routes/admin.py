"""用户 and 审计日志: accounts and the audit log, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from chainatlas.accounts import service
from chainatlas.accounts.models import User
from chainatlas.accounts.roles import ROLE_NAMES_ZH, Role
from chainatlas.db.audit import AuditEntry
from chainatlas.errors import UserError
from chainatlas.web.security import UserManager
from chainatlas.web.state import app_state
from chainatlas.web.templating import render

router = APIRouter(prefix="/admin")
Admin = UserManager


def _users_page(request: Request, user: User, error: str = "", status_code: int = 200) -> Response:
    state = app_state(request)
    with state.db.session() as session:
        users = service.list_users(session)
    return render(
        request,
        "admin_users.html",
        user,
        status_code=status_code,
        users=users,
        roles=[(r.value, ROLE_NAMES_ZH[r]) for r in Role],
        chain_names={cid: chain.name_zh for cid, chain in state.atlas.items()},
        error=error,
    )


@router.get("/users", include_in_schema=False)
def users_page(request: Request, user: Admin) -> Response:
    return _users_page(request, user)


@router.post("/users", include_in_schema=False)
def add_user(
    request: Request,
    user: Admin,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=32)],
    display_name: Annotated[str, Form(max_length=128)] = "",
    chains: Annotated[list[str] | None, Form()] = None,
) -> Response:
    state = app_state(request)
    unknown = [c for c in chains or [] if c not in state.atlas]
    try:
        if unknown:
            raise UserError(f"没有产业链 {unknown[0]}", f"no chain {unknown[0]}")
        with state.db.session() as session:
            service.add_user(
                session,
                state.settings.web,
                username,
                password,
                role,
                display_name=display_name,
                chains=chains or [],
                actor=user.username,
            )
    except UserError as exc:
        message = exc.message_en if request.session.get("lang") == "en" else exc.message_zh
        return _users_page(request, user, error=message, status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/disable", include_in_schema=False)
def disable_user(request: Request, user: Admin, username: str, enable: int = 0) -> Response:
    if username == user.username:
        raise UserError("不能停用自己的账户", "you cannot disable your own account")
    with app_state(request).db.session() as session:
        service.set_disabled(session, username, not enable, actor=user.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/password", include_in_schema=False)
def reset_password(
    request: Request, user: Admin, username: str, password: Annotated[str, Form(max_length=1024)]
) -> Response:
    state = app_state(request)
    try:
        with state.db.session() as session:
            service.reset_password(
                session, state.settings.web, username, password, actor=user.username
            )
    except UserError as exc:
        message = exc.message_en if request.session.get("lang") == "en" else exc.message_zh
        return _users_page(request, user, error=message, status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, user: Admin, page: int = 1) -> Response:
    size = 50
    page = max(1, page)
    with app_state(request).db.session() as session:
        entries = list(
            session.scalars(
                select(AuditEntry)
                .order_by(AuditEntry.id.desc())
                .offset((page - 1) * size)
                .limit(size + 1)
            )
        )
    return render(
        request,
        "admin_audit.html",
        user,
        entries=entries[:size],
        page=page,
        has_next=len(entries) > size,
    )
