"""机会 opportunities: the chains and nodes a region could build, extend or fill, ranked by
relatedness density, complexity (COG, PCI) and national growth (`chainatlas.opportunities/1`),
as a scatter chart and a table.

The ranking compares every region of the level on every node (about ten seconds on a
national warehouse), so it is kept per (warehouse version, region, chain, top)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chainatlas.diagnose.opportunities import Opportunities, find_opportunities
from chainatlas.diagnose.pipeline import UnknownRegionError
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.web.i18n import translate
from chainatlas.web.readmodel import VersionedLRU
from chainatlas.web.routes.targets import page_chain, page_region
from chainatlas.web.security import Viewer
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import language, render, visible_chains

router = APIRouter()
TOP = 20
MAX_TOP = 200
CACHE_KEY = "opportunities.lists"
KINDS = ("build", "extend", "fill")
_cache_lock = threading.Lock()


def _lists(state: AppState) -> VersionedLRU[Opportunities]:
    with _cache_lock:
        cache: VersionedLRU[Opportunities] = state.caches.setdefault(CACHE_KEY, VersionedLRU(16))
        return cache


def opportunity_list(
    state: AppState, region: str, chain_id: str | None, top: int = TOP
) -> Opportunities:
    """`find_opportunities` with the settings' weights, cached per warehouse version."""
    settings = state.settings

    def compute(wh: Warehouse) -> Opportunities:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        if not wh.has_table("node_cohorts"):
            # a warehouse built before the cohort tables existed: growth cannot be measured
            raise UserError(
                "仓库缺少 node_cohorts 表（旧版本构建），请在“数据”页重新导入或重建仓库",
                "the warehouse lacks the node_cohorts table (built by an older version); "
                "reload or rebuild it on the Data page",
            )
        try:
            return find_opportunities(
                wh,
                state.atlas,
                region,
                weights=settings.opportunity,
                thresholds=settings.status,
                chain_id=chain_id,
                top=top,
            )
        except UnknownRegionError as exc:
            raise UserError(
                f"「地区」无效：未知的行政区划代码 {region}",
                f"'region': unknown region code {region}",
            ) from exc

    with state.warehouse.read() as wh:
        version = state.warehouse.version
        return _lists(state).get(version, (region, chain_id or "", top), lambda: compute(wh))


@router.get("/opportunities", include_in_schema=False)
def opportunities_page(
    request: Request,
    user: Viewer,
    region: Annotated[str | None, Query(max_length=20)] = None,
    chain: Annotated[str, Query(max_length=64)] = "",
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = TOP,
) -> Response:
    state = app_state(request)
    lang = language(request)
    code = page_region(request, user, region)
    chosen = page_chain(request, user, chain.strip()) if chain.strip() else None
    chains = visible_chains(request, user)
    base: dict[str, Any] = {"region": code, "chains": chains, "f": {"chain": chain.strip()}}
    if not state.warehouse.exists:
        return render(request, "opportunities.html", user, result=None, no_warehouse=True, **base)
    result = opportunity_list(state, code, chosen.id if chosen else None, top)
    # scoped users (chain office, member unit) see only their chains' rows
    items = [o for o in result.items if user.sees_chain(o.chain_id)]
    zh = lang != "en"
    rows = [
        {
            "o": o,
            "chain_name": o.chain_name_zh if zh else o.chain_name_en,
            "node_name": (o.node_name_zh if zh else o.node_name_en) or "",
            "reason": o.reason_zh if zh else o.reason_en,
        }
        for o in items
    ]
    use_cog = any(o.cog is not None for o in items)
    points = []
    for o, r in zip(items, rows, strict=True):
        value = o.cog if use_cog else o.pci
        if o.density is None or value is None:
            continue
        label = f"{r['chain_name']}·{r['node_name']}" if r["node_name"] else r["chain_name"]
        points.append(
            {
                "rank": o.rank,
                "kind": o.kind,
                "x": o.density,
                "y": value,
                "score": o.score,
                "label": label,
            }
        )
    chart = {
        "kinds": [{"id": k, "name": translate(f"opp_kind_{k}", lang)} for k in KINDS],
        "points": points,
    }
    return render(
        request,
        "opportunities.html",
        user,
        result=result,
        rows=rows,
        chart=chart,
        use_cog=use_cog,
        top=top,
        **base,
    )
