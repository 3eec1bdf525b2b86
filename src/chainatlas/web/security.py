"""Who is asking and may they: session cookies, API tokens, CSRF, roles.

- Pages: a signed session cookie (Starlette's SessionMiddleware, itsdangerous) holding the
  user id, the user's session version (bumped by a password reset or disable) and the time
  of the last request; idle longer than `session_idle_minutes` → log in again.
- API: `Authorization: Bearer <token>` (tokens from `chainatlas users token`), or the
  session cookie of a logged-in browser.
- CSRF: a random token per session, sent back by every form (`csrf_token` field) and every
  HTMX / fetch request (`X-CSRF-Token` header); unsafe methods without it are refused.
  Requests authenticated by a bearer token carry no cookie and need no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import selectinload

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, allows
from chainatlas.accounts.service import user_for_token
from chainatlas.web.state import app_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class Forbidden(Exception):
    def __init__(self, reason: str = "") -> None:
        self.reason = reason


class CsrfFailed(Exception):
    pass


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def log_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update(
        uid=user.id, ver=user.session_version, seen=int(time.time()), lang=user.language
    )
    csrf_token(request)


def log_out(request: Request) -> None:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def current_user(request: Request) -> User:
    """The authenticated user, or LoginRequired (pages redirect, the API answers 401)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    state = app_state(request)
    token = _bearer(request)
    if token is not None:
        with state.db.session() as session:
            user = user_for_token(session, token)
        if user is None:
            raise LoginRequired("token")
        request.state.user, request.state.via_token = user, True
        return user
    uid = request.session.get("uid")
    if uid is None:
        raise LoginRequired()
    now = int(time.time())
    idle = state.settings.web.session_idle_minutes * 60
    if now - int(request.session.get("seen", 0)) > idle:
        log_out(request)
        raise LoginRequired("expired")
    with state.db.session() as session:
        user = session.get(User, int(uid), options=[selectinload(User.chains)])
    if user is None or user.disabled or user.session_version != request.session.get("ver"):
        log_out(request)
        raise LoginRequired()
    request.session["seen"] = now
    request.state.user, request.state.via_token = user, False
    return user


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe request whose CSRF token is missing or wrong (bearer-token API
    calls excepted: they carry no cookie a foreign page could ride on)."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfFailed()


CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> Callable[..., Awaitable[User]]:
    """Dependency: the current user, who must hold `permission`."""

    async def dependency(request: Request, user: CurrentUser) -> User:
        if not allows(user.role, permission):
            raise Forbidden(permission.value)
        return user

    # read by the access-matrix test: which permission each route demands
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def require_chain(user: User, chain_id: str) -> None:
    """Scoped roles (chain office, member unit) see only their chains."""
    if not user.sees_chain(chain_id):
        raise Forbidden(f"chain {chain_id}")


# route parameters: `user: Viewer` etc.
Viewer = Annotated[User, Depends(require(Permission.view))]
Analyst = Annotated[User, Depends(require(Permission.analyze))]
TargetMarker = Annotated[User, Depends(require(Permission.mark_targets))]
DataManager = Annotated[User, Depends(require(Permission.manage_data))]
UserManager = Annotated[User, Depends(require(Permission.manage_users))]
