"""The FastAPI application: `create_app(settings)` wires state, middleware, error pages and
the routers; `chainatlas serve` runs it under uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from chainatlas.atlas import load_atlas
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.settings import Settings
from chainatlas.web.i18n import translate
from chainatlas.web.readmodel import start_warm_up, stop_background
from chainatlas.web.security import CsrfFailed, Forbidden, LoginRequired
from chainatlas.web.state import AppState, secret_key
from chainatlas.web.warehouse_gate import WarehouseGate

SESSION_COOKIE = "chainatlas_session"


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _lang(request: Request) -> str:
    return str(request.session.get("lang", "zh")) if "session" in request.scope else "zh"


def _error_page(request: Request, status: int, message_zh: str, message_en: str) -> Response:
    from chainatlas.web.templating import render

    user = getattr(request.state, "user", None)
    return render(
        request,
        "error.html",
        user,
        status_code=status,
        status=status,
        message=message_en if _lang(request) == "en" else message_zh,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"error": "unauthorized", "message_zh": "需要登录", "message_en": "log in first"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        suffix = "&expired=1" if exc.reason == "expired" else ""
        if request.headers.get("hx-request"):
            # HTMX follows the header with a full page load instead of swapping a fragment
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(target)}{suffix}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"error": "forbidden", "message_zh": "无权访问", "message_en": "forbidden"},
                status_code=403,
            )
        return _error_page(request, 403, translate("forbidden", "zh"), translate("forbidden", "en"))

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        zh, en = translate("csrf_failed", "zh"), translate("csrf_failed", "en")
        if _wants_json(request):
            return JSONResponse(
                {"error": "csrf", "message_zh": zh, "message_en": en}, status_code=403
            )
        return _error_page(request, 403, zh, en)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        from chainatlas.workflow.access import NotAllowed

        # a workflow refusal (role, unit or chain) is a 403, any other user error a 422
        status, kind = (403, "forbidden") if isinstance(exc, NotAllowed) else (422, "invalid")
        if _wants_json(request):
            return JSONResponse(
                {"error": kind, "message_zh": exc.message_zh, "message_en": exc.message_en},
                status_code=status,
            )
        return _error_page(request, status, exc.message_zh, exc.message_en)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code not in (403, 404):
            return JSONResponse(
                {
                    "error": str(exc.detail),
                    "message_zh": str(exc.detail),
                    "message_en": str(exc.detail),
                },
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        key = "not_found" if exc.status_code == 404 else "forbidden"
        return _error_page(request, exc.status_code, translate(key, "zh"), translate(key, "en"))


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()
    if migrate:
        upgrade(settings.app_database_url)
    atlas = load_atlas([settings.chains_dir] if settings.chains_dir else [])
    state = AppState(
        settings=settings,
        atlas=atlas,
        db=Database(settings.app_database_url),
        warehouse=WarehouseGate(settings.warehouse_path),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.web.warm_up:
            start_warm_up(state)
            state.warehouse.on_change = lambda: start_warm_up(state)
        yield
        state.warehouse.on_change = None
        stop_background(state)
        state.warehouse.close()
        state.db.dispose()

    app = FastAPI(
        title="chainatlas",
        version="1",
        description="产业链图谱平台 HTTP API / chainatlas HTTP API (DESIGN §8)",
        lifespan=lifespan,
        # the OpenAPI document and its page are served behind the login (routes/api_docs.py)
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.chainatlas = state
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        # the cookie outlives idle expiry, which the server checks on every request
        max_age=14 * 24 * 3600,
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )
    _install_error_handlers(app)

    static = resources.files("chainatlas.web") / "static"
    geo = resources.files("chainatlas.briefing") / "data" / "geo"
    app.mount("/static/geo", StaticFiles(directory=str(geo)), name="geo")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    from chainatlas.web.routes import include_routers

    include_routers(app)
    return app
