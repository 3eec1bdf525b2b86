"""各地区招商清单: the target lists of every city or county under the region the user looks
at, from the results of `chainatlas build` imported with `chainatlas ingest build` — a
provincial planner's view of all its regions at once — with the XLSX of every row. Each
region links to its own live list (/targets), where marks and other lengths apply."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.atlas.model import Chain
from chainatlas.reference.regions import region_full_name
from chainatlas.services.region_lists import (
    ResultsInfo,
    levels_under,
    region_lists,
    region_lists_xlsx,
    results_info,
)
from chainatlas.web.routes._workflow import attachment
from chainatlas.web.routes.targets import XLSX_TYPE, _node, page_chain, page_region
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render, visible_chains

router = APIRouter()
SHOWN_PER_REGION = 3  # the page shows each region's best few per node; the XLSX has all


def _scope(code: str, level: str) -> tuple[list[str], str]:
    """(levels under the region, the level asked for or the first of them)."""
    levels = list(levels_under(code))
    return levels, (level if level in levels else (levels[0] if levels else ""))


def _chain_and_node(
    request: Request, user: User, chain: str, node: str
) -> tuple[Chain, str | None]:
    """The chain asked for (in the user's scope) and the node, if one is asked for."""
    chosen = page_chain(request, user, chain.strip())
    return chosen, _node(chosen, node)


def _read(
    request: Request, chain: Chain, code: str, level: str, node_id: str | None
) -> tuple[ResultsInfo | None, pl.DataFrame | None, pl.DataFrame | None]:
    state = app_state(request)
    if not state.warehouse.exists:
        return None, None, None
    with state.warehouse.read() as wh:
        info = results_info(wh)
        if info is None or not level:
            return info, None, None
        summary, targets = region_lists(wh, chain, code, level, node_id)
    return info, summary, targets


@router.get("/targets/regions", include_in_schema=False)
def region_lists_page(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str | None, Query(max_length=20)] = None,
    level: Annotated[str, Query(max_length=10)] = "",
    node: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    lang = language(request)
    code = page_region(request, user, region)
    levels, level = _scope(code, level)
    chains = visible_chains(request, user)
    base: dict[str, Any] = {
        "region": code,
        "chains": chains,
        "levels": levels,
        "f": {"chain": chain.strip(), "level": level, "node": node.strip()},
    }
    if not chain.strip():
        return render(request, "targets_regions.html", user, summary=None, nodes=[], **base)
    chosen, node_id = _chain_and_node(request, user, chain, node)
    info, summary, targets = _read(request, chosen, code, level, node_id)
    names = {n.id: (n.name_en if lang == "en" and n.name_en else n.name_zh) for n in chosen.nodes}
    shown: dict[str, list[dict[str, Any]]] = {}
    if targets is not None and node_id:
        for row in targets.filter(pl.col("rank") <= SHOWN_PER_REGION).iter_rows(named=True):
            row["origin_name"] = region_full_name(row["target_region_code"] or "")
            shown.setdefault(row["region_code"], []).append(row)
    query = {"chain": chosen.id, "region": code, "level": level, "node": node_id or ""}
    return render(
        request,
        "targets_regions.html",
        user,
        chain=chosen,
        chain_name=chosen.name_en if lang == "en" and chosen.name_en else chosen.name_zh,
        nodes=list(names.items()),
        node_names=names,
        node_id=node_id or "",
        info=info,
        no_warehouse=not app_state(request).warehouse.exists,
        summary=None if summary is None else list(summary.iter_rows(named=True)),
        shown=shown,
        shown_per_region=SHOWN_PER_REGION,
        export_query=urlencode(query),
        **{**base, "f": {"chain": chosen.id, "level": level, "node": node_id or ""}},
    )


@router.get("/targets/regions/export", include_in_schema=False)
def export_region_lists(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)],
    region: Annotated[str | None, Query(max_length=20)] = None,
    level: Annotated[str, Query(max_length=10)] = "",
    node: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Every listed target of the scope as XLSX (sheets 地区, 目标企业, 参数)."""
    lang = language(request)
    code = page_region(request, user, region)
    _, level = _scope(code, level)
    chosen, node_id = _chain_and_node(request, user, chain, node)
    info, summary, targets = _read(request, chosen, code, level, node_id)
    if info is None or summary is None or targets is None:
        return Response(status_code=404)
    with tempfile.TemporaryDirectory(prefix="chainatlas-region-lists-") as folder:
        path = Path(folder) / "lists.xlsx"
        region_lists_xlsx(path, chosen, code, level, summary, targets, info, lang=lang)
        body = path.read_bytes()
    ascii_name = f"targets-{code}-{level}-{chosen.id}.xlsx"
    title = (
        ascii_name
        if lang == "en"
        else f"{region_full_name(code)}·{chosen.name_zh}·各地区招商目标企业.xlsx"
    )
    headers = {"Content-Disposition": attachment(title, ascii_name)}
    return Response(body, media_type=XLSX_TYPE, headers=headers)
