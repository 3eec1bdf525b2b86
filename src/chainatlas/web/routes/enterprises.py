"""企业 enterprises: search (name, credit code, region, chain / node, tag) with paging, and
one enterprise's page (its assignments and supply partners).

The search form is a plain GET form (works without JavaScript); with HTMX the result table
is swapped in place and the chain select refreshes the node select."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.atlas.model import Chain
from chainatlas.errors import UserError
from chainatlas.ingest.validators import TAG_VOCABULARY
from chainatlas.reference.industry import industry_code_names
from chainatlas.reference.regions import load_regions, region_codes
from chainatlas.services.enterprise_search import (
    MAX_BROWSABLE,
    PAGE_SIZE,
    enterprise_detail,
    search_enterprises,
)
from chainatlas.web.readmodel import region_rows, search_cache
from chainatlas.web.security import Viewer, require_chain
from chainatlas.web.state import app_state
from chainatlas.web.templating import current_region, language, render, visible_chains

router = APIRouter()
RESULTS_ID = "ent-results"


@cache
def _parents() -> tuple[dict[str, str], dict[str, str | None]]:
    regions = load_regions()
    return (
        dict(regions.select("region_code", "name").iter_rows()),
        dict(regions.select("region_code", "parent_code").iter_rows()),
    )


def region_scopes(code: str) -> list[tuple[str, str]]:
    """The region and its ancestors, province first: the scopes a search can widen to."""
    names, parents = _parents()
    path: list[tuple[str, str]] = []
    cursor: str | None = code
    while cursor is not None and cursor in names:
        path.append((cursor, names[cursor]))
        cursor = parents.get(cursor)
    return list(reversed(path))


def _name(item: Any, lang: str) -> str:
    return str(item.name_en if lang == "en" and item.name_en else item.name_zh)


def _chain(request: Request, user: User, chain_id: str) -> Chain | None:
    if not chain_id:
        return None
    atlas = app_state(request).atlas
    if chain_id not in atlas:
        raise UserError(
            f"「产业链」无效：没有产业链 {chain_id}", f"'chain': there is no chain {chain_id}"
        )
    require_chain(user, chain_id)
    return atlas[chain_id]


def _node_options(chain: Chain | None, lang: str) -> list[tuple[str, str]]:
    return [(n.id, _name(n, lang)) for n in chain.nodes] if chain else []


def _is_fragment(request: Request, target: str) -> bool:
    return bool(request.headers.get("hx-request")) and request.headers.get("hx-target") == target


@router.get("/enterprises", include_in_schema=False)
def enterprises_page(
    request: Request,
    user: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    region: Annotated[str | None, Query(max_length=20)] = None,
    chain: Annotated[str, Query(max_length=64)] = "",
    node: Annotated[str, Query(max_length=64)] = "",
    tag: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    state = app_state(request)
    lang = language(request)
    page_region = current_region(request, user)
    # first visit (no region parameter): the region the user looks at; blank: all of China
    scope = page_region if region is None else region.strip()
    if scope and scope not in region_codes():
        raise UserError(
            f"「地区」无效：{scope} 不是行政区划代码", f"'region': {scope} is not a region code"
        )
    chosen = _chain(request, user, chain.strip())
    node = node.strip()
    if node and (chosen is None or node not in chosen.node_ids):
        raise UserError(
            f"「环节」无效：{node} 不是所选产业链的环节",
            f"'node': {node} is not a node of the chosen chain",
        )
    filters = {"q": q.strip(), "region": scope, "chain": chain.strip(), "node": node, "tag": tag}
    rows: list[dict[str, Any]] = []
    total = 0
    if state.warehouse.exists:
        size = state.settings.web.page_size or PAGE_SIZE
        key = (filters["q"], scope, filters["chain"], node, tag, page, size)

        def run() -> tuple[pl.DataFrame, int]:
            with state.warehouse.read() as wh:
                return search_enterprises(
                    wh,
                    region_rows=region_rows(state),
                    q=filters["q"] or None,
                    region=scope or None,
                    chain=filters["chain"] or None,
                    node=node or None,
                    tag=tag or None,
                    page=page,
                    page_size=size,
                )

        # a repeated search (paging back, a colleague's same query) is answered from memory
        frame, total = search_cache(state).get(state.warehouse.version, key, run)
        rows = _rows(frame, chosen, lang)
    page_size = state.settings.web.page_size or PAGE_SIZE
    pages = max(1, -(-min(total, MAX_BROWSABLE) // page_size))
    context: dict[str, Any] = {
        "f": filters,
        "rows": rows,
        "total": total,
        "capped": total > MAX_BROWSABLE,
        "count_cap": MAX_BROWSABLE,
        "page": page,
        "pages": pages,
        "query": urlencode({k: v for k, v in filters.items() if v or k == "region"}),
        "chosen_chain": chosen,
        "no_warehouse": not state.warehouse.exists,
        "region": page_region,
    }
    if _is_fragment(request, RESULTS_ID):
        return render(request, "_ent_results.html", user, **context)
    return render(
        request,
        "enterprises.html",
        user,
        scopes=region_scopes(page_region),
        chains=visible_chains(request, user),
        nodes=_node_options(chosen, lang),
        tags=TAG_VOCABULARY,
        **context,
    )


def _rows(frame: pl.DataFrame, chain: Chain | None, lang: str) -> list[dict[str, Any]]:
    rows = frame.to_dicts()
    for r in rows:
        r["tag_list"] = [t for t in (r["tags"] or "").split(";") if t]
        r["node_names"] = (
            [_name(chain.node(n), lang) for n in r["nodes"] if n in chain.node_ids] if chain else []
        )
    return rows


@router.get("/enterprises/nodes", include_in_schema=False)
def node_select(
    request: Request, user: Viewer, chain: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The node select for a chain (HTMX swaps it in when the chain changes)."""
    chosen = _chain(request, user, chain.strip())
    return render(
        request,
        "_ent_node_select.html",
        user,
        nodes=_node_options(chosen, language(request)),
        f={"node": ""},
    )


@router.get("/enterprises/{uscc}", include_in_schema=False)
def enterprise_page(request: Request, user: Viewer, uscc: str) -> Response:
    state = app_state(request)
    lang = language(request)
    if not state.warehouse.exists or len(uscc) > 40:
        raise HTTPException(status_code=404)
    with state.warehouse.read() as wh:
        detail = enterprise_detail(wh, uscc)
    if detail is None:
        raise HTTPException(status_code=404)
    assignments = []
    for a in detail.assignments.iter_rows(named=True):
        chain = state.atlas.get(a["chain_id"])
        if chain is None or not user.sees_chain(chain.id):
            continue
        node = chain.node(a["node_id"]) if a["node_id"] in chain.node_ids else None
        assignments.append(
            {
                **a,
                "chain_name": _name(chain, lang),
                "node_name": _name(node, lang) if node else a["node_id"],
                "evidence_items": _evidence(a["evidence"]),
            }
        )
    industry = detail.firm.get("industry_code") or ""
    return render(
        request,
        "enterprise.html",
        user,
        d=detail,
        firm=detail.firm,
        industry_name=industry_code_names().get(industry, ""),
        assignments=assignments,
        suppliers=detail.suppliers.to_dicts(),
        customers=detail.customers.to_dicts(),
    )


def _evidence(text: str | None) -> list[tuple[str, str]]:
    """`kw:甲,乙;code:2611` → [("kw", "甲、乙"), ("code", "2611")] for display."""
    items: list[tuple[str, str]] = []
    for part in (text or "").split(";"):
        kind, _, value = part.partition(":")
        if value:
            items.append((kind.strip(), value.replace(",", "、")))
        elif kind.strip():
            items.append(("", kind.strip()))
    return items
