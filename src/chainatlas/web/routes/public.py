"""The routes open without login: the login form, language switch, health check."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from chainatlas.accounts.service import authenticate
from chainatlas.web.i18n import LANGUAGES
from chainatlas.web.security import log_in, log_out
from chainatlas.web.state import app_state
from chainatlas.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not bounce the user to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/healthz", include_in_schema=False)
def health(request: Request) -> dict[str, object]:
    state = app_state(request)
    return {"status": "ok", "warehouse": state.warehouse.exists}


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/", expired: int = 0) -> Response:
    return render(
        request,
        "login.html",
        None,
        next=_safe_next(next),
        error="session_expired" if expired else "",
    )


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    state = app_state(request)
    with state.db.session() as session:
        result = authenticate(session, state.settings.web, username, password)
        user = result.user
        if user is not None:
            log_in(request, user)
    if user is None:
        error = "login_locked" if result.reason == "locked" else "login_failed"
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=_safe_next(next),
            error=error,
            username=username,
        )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}", include_in_schema=False)
def switch_language(request: Request, code: str, back: str = "/") -> Response:
    if code in LANGUAGES:
        request.session["lang"] = code
    return RedirectResponse(_safe_next(back), status_code=303)
