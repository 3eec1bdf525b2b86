"""首页 dashboard (placeholder until the dashboard lands)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chainatlas.web.security import Viewer
from chainatlas.web.templating import render, visible_chains

router = APIRouter()


@router.get("/", include_in_schema=False)
def dashboard(request: Request, user: Viewer) -> Response:
    return render(request, "home.html", user, chains=visible_chains(request, user))
