"""产业链图谱: a chain's map laid out by stage, coloured by the region's node status; a
click on a node loads its panel (local firms, LQ, status, lead firms, firms per year)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from chainatlas.atlas.model import Chain
from chainatlas.errors import UserError
from chainatlas.web import readmodel
from chainatlas.web.i18n import translate
from chainatlas.web.routes._analysis import (
    cached_fragment,
    chain_graph,
    chain_map_print,
    chain_name,
    chain_options,
    node_name,
    requested_chain,
    requested_region,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render

router = APIRouter()

STAGE_ORDER = ("upstream", "midstream", "downstream", "support")


def _node_panel(request: Request, chain: Chain, node_id: str, region: str) -> dict[str, Any]:
    """What the node panel shows (the context of `_atlas_node_panel.html`)."""
    if node_id not in chain.node_ids:
        raise UserError(
            f"参数 node：产业链 {chain.id} 没有环节 {node_id}",
            f"parameter node: chain {chain.id} has no node {node_id!r}",
        )
    state = app_state(request)
    lang = language(request)
    diagnosis = readmodel.region_diagnosis(state, chain.id, region)
    dn = next(n for n in diagnosis.nodes if n.id == node_id)
    firms = readmodel.node_firms(state, chain.id, node_id, region)
    trend = readmodel.region_trend(state, chain.id, region)
    points = trend.nodes.get(node_id, []) if trend else []
    trend_chart = {
        "years": [p.year for p in points],
        "active": [p.firms for p in points],
        "births": [p.births for p in points],
        "deaths": [p.deaths for p in points] if trend and trend.exits_recorded else [],
        "labels": {
            "active": translate("atlas_trend_active", lang),
            "births": translate("atlas_trend_births", lang),
            "deaths": translate("atlas_trend_deaths", lang),
        },
    }
    return {
        "chain": chain,
        "chain_label": chain_name(chain, lang),
        "node": dn,
        "node_label": node_name(chain, node_id, lang),
        "suppliers": [(s, node_name(chain, s, lang)) for s in dn.suppliers],
        "customers": [(c, node_name(chain, c, lang)) for c in dn.customers],
        "firms": firms,
        "trend": trend,
        "trend_points": points,
        "trend_chart": trend_chart,
        "region": region,
        "region_label": diagnosis.region.full_name,
        "place": readmodel.place_name,
    }


@router.get("/atlas", include_in_schema=False)
def atlas_page(request: Request, user: Viewer, chain: str = "", node: str = "") -> Response:
    state = app_state(request)
    lang = language(request)
    region = requested_region(request, user)
    picked = requested_chain(request, user, chain, region)

    def context() -> dict[str, Any]:
        diagnosis = readmodel.region_diagnosis(state, picked.id, region)
        by_stage = {s: i for i, s in enumerate(STAGE_ORDER)}
        nodes = sorted(
            enumerate(diagnosis.nodes),
            key=lambda p: (by_stage.get(p[1].stage, len(by_stage)), p[0]),
        )
        return {
            "region": region,
            "chain": picked,
            "d": diagnosis,
            "nodes": [(n, node_name(picked, n.id, lang)) for _, n in nodes],
            "graph": chain_graph(request, picked, diagnosis),
            "graph_print": chain_map_print(request, picked, diagnosis),
            "panel": _node_panel(request, picked, node, region) if node else None,
            "selected_node": node,
        }

    body = cached_fragment(request, "_atlas_body.html", (picked.id, region, node), context)
    return render(
        request,
        "atlas.html",
        user,
        region=region,
        chain=picked,
        chain_label=chain_name(picked, lang),
        chains=chain_options(request, user),
        body=body,
    )


@router.get("/atlas/node", include_in_schema=False)
def atlas_node(request: Request, user: Viewer, chain: str, node: str) -> Response:
    """The node panel (an HTML fragment for htmx)."""
    region = requested_region(request, user)
    picked = requested_chain(request, user, chain, region)
    body = cached_fragment(
        request,
        "_atlas_node_panel.html",
        (picked.id, node, region),
        lambda: {"panel": _node_panel(request, picked, node, region)},
    )
    return HTMLResponse(body)
