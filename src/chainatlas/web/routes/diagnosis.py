"""诊断: the diagnosis of a chain in a region — what `chainatlas diagnose` prints (completeness,
status counts, nodes, lead firms, single points of failure, actions) with the chain map, a
map of China, and downloads as JSON / XLSX / HTML."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chainatlas.briefing.html import definitions
from chainatlas.errors import UserError
from chainatlas.services.diagnosis import write_diagnosis
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

EXPORTS = {
    "json": ("application/json", "json"),
    "html": ("text/html; charset=utf-8", "html"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
STAGE_ORDER = ("upstream", "midstream", "downstream", "support")


def _china_map(request: Request, chain_id: str, region_code: str, lang: str) -> dict[str, Any]:
    state = app_state(request)
    totals = readmodel.province_totals(state, chain_id)
    provinces = readmodel.region_children(None)
    selected = region_code[:2] + "0000"
    items: list[dict[str, Any]] = [
        {"code": p.code, "name": p.name, "value": int(totals.get(p.code, 0))} for p in provinces
    ]
    return {
        "items": items,
        "selected": selected,
        "selected_name": readmodel.place_name(selected),
        "selected_value": int(totals.get(selected, 0)),
        "max": max((i["value"] for i in items), default=0),
        "labels": {
            "high": translate("diag_china_high", lang),
            "low": translate("diag_china_low", lang),
            "unit": translate("diag_firms_unit", lang),
        },
    }


@router.get("/diagnosis", include_in_schema=False)
def diagnosis_page(request: Request, user: Viewer, chain: str = "") -> Response:
    state = app_state(request)
    lang = language(request)
    region = requested_region(request, user)
    picked = requested_chain(request, user, chain, region)

    def context() -> dict[str, Any]:
        d = readmodel.region_diagnosis(state, picked.id, region)
        by_stage = {s: i for i, s in enumerate(STAGE_ORDER)}
        nodes = [
            n
            for _, n in sorted(
                enumerate(d.nodes), key=lambda p: (by_stage.get(p[1].stage, 9), p[0])
            )
        ]
        weights = next((f.weights for n in d.nodes for f in n.lead_firms), {})
        return {
            "region": region,
            "chain": picked,
            "d": d,
            "nodes": nodes,
            "names": {n.id: node_name(picked, n.id, lang) for n in d.nodes},
            "lead_nodes": [n for n in nodes if n.lead_firms],
            "components": list(weights),
            "weights": weights,
            "graph": chain_graph(request, picked, d),
            "graph_print": chain_map_print(request, picked, d),
            "china": _china_map(request, picked.id, region, lang),
            "definitions": definitions(d, lang),
            "place": readmodel.place_name,
            "present_nodes": sum(1 for n in d.nodes if n.status != "missing"),
        }

    body = cached_fragment(request, "_diag_body.html", (picked.id, region), context)
    return render(
        request,
        "diagnosis.html",
        user,
        region=region,
        chain=picked,
        chain_label=chain_name(picked, lang),
        chains=chain_options(request, user),
        body=body,
    )


@router.get("/diagnosis/export", include_in_schema=False)
def diagnosis_export(
    request: Request,
    user: Viewer,
    chain: str,
    fmt: Annotated[str, Query(alias="format")] = "json",
) -> Response:
    """The diagnosis as a file: json (the chainatlas.diagnosis contract), xlsx or html."""
    if fmt not in EXPORTS:
        raise UserError(
            f"参数 format：不支持的格式 {fmt}（可用 json、xlsx、html）",
            f"parameter format: unsupported format {fmt!r} (use json, xlsx or html)",
        )
    state = app_state(request)
    lang = language(request)
    region = requested_region(request, user)
    picked = requested_chain(request, user, chain, region)
    d = readmodel.region_diagnosis(state, picked.id, region)
    media, ext = EXPORTS[fmt]
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="chainatlas-diag-") as tmp:
            out = Path(tmp) / f"diagnosis.{ext}"
            write_diagnosis(d, picked, fmt, out, lang=lang)
            body: bytes | str = out.read_bytes()
    else:
        body = write_diagnosis(d, picked, fmt, None, lang=lang)
    filename = f"diagnosis_{region}_{picked.id}.{ext}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
