"""The API's own description behind the login: the OpenAPI document and a page listing the
operations (no Swagger UI: it would load its scripts from a CDN)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from chainatlas.web.security import Viewer
from chainatlas.web.templating import render

router = APIRouter(prefix="/api")

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, user: Viewer) -> JSONResponse:
    return JSONResponse(request.app.openapi())


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per operation: method, path, tag, summary and its parameters."""
    rows = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            params = [
                {
                    "name": p["name"],
                    "where": p["in"],
                    "required": bool(p.get("required")),
                    "description": p.get("description", ""),
                }
                for p in operation.get("parameters", [])
            ]
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "tag": (operation.get("tags") or [""])[0],
                    "summary": operation.get("summary", ""),
                    "params": params,
                    "body": "requestBody" in operation,
                }
            )
    return rows


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request, user: Viewer) -> Response:
    document = request.app.openapi()
    return render(
        request,
        "api_docs.html",
        user,
        operations=operations(document),
        version=document.get("info", {}).get("version", ""),
    )
