"""首页 dashboard: every visible chain of the region at a glance (completeness, node status
counts, the main gaps), what changed recently, and the region picker's options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from chainatlas.web import readmodel
from chainatlas.web.routes._analysis import cached_fragment, node_name, requested_region
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render, visible_chains

router = APIRouter()


@dataclass(frozen=True)
class DashboardRow:
    id: str
    name: str
    o: readmodel.ChainOverview
    gaps: list[tuple[readmodel.Gap, str]]  # gap, node name
    change: readmodel.ChainChange | None


@router.get("/", include_in_schema=False)
def dashboard(request: Request, user: Viewer) -> Response:
    state = app_state(request)
    lang = language(request)
    region = requested_region(request, user)
    visible = visible_chains(request, user)
    if not state.warehouse.exists:
        return render(request, "home.html", user, no_warehouse=True, rows=[], chains=visible)
    info = readmodel.region_info(region)

    def context() -> dict[str, Any]:
        overview = readmodel.region_overview(state, region)
        changes = readmodel.recent_changes(state, region)
        rows: list[DashboardRow] = []
        for cid, name in visible:
            o = overview.get(cid)
            if o is None:
                continue
            chain = state.atlas[cid]
            rows.append(
                DashboardRow(
                    id=cid,
                    name=name,
                    o=o,
                    gaps=[(g, node_name(chain, g.node_id, lang)) for g in o.gaps],
                    change=changes.chains.get(cid) if changes else None,
                )
            )
        chart = {
            "chains": [r.name for r in rows],
            "series": {s: [r.o.counts[s] for r in rows] for s in (*readmodel.STATUSES, "break")},
        }
        totals = {
            "completeness": (sum(r.o.completeness for r in rows) / len(rows)) if rows else None,
            "gaps": sum(r.o.counts["missing"] + r.o.counts["weak"] for r in rows),
            "breaks": sum(r.o.counts["break"] for r in rows),
            "births": sum(r.change.births for r in rows if r.change) if changes else None,
        }
        return {
            "region": region,
            "level": info.level,
            "rows": rows,
            "chart": chart,
            "totals": totals,
            "changes": changes,
        }

    key = (region, tuple(cid for cid, _ in visible))
    body = cached_fragment(request, "_diag_dashboard_body.html", key, context) if visible else ""
    return render(
        request,
        "home.html",
        user,
        region=region,
        body=body,
        loads=readmodel.recent_data_loads(state),
        chains=visible,
    )


@router.get("/regions/options", include_in_schema=False)
def region_options(request: Request, user: Viewer, parent: str = "") -> Response:
    """The regions directly under `parent` (none: the provinces), for the region picker."""
    if parent:
        readmodel.region_info(parent)
    children = readmodel.region_children(parent or None)
    return JSONResponse([{"code": r.code, "name": r.name, "level": r.level} for r in children])
