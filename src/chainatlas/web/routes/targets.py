"""招商 targets: for each missing / weak / break node of a region's chain, the firms
elsewhere to approach (ranked, with score components and reasons), colleagues' marks on
them, marking (contacted / not relevant) and the XLSX export.

Target lists take seconds on a national warehouse, so each is kept per (warehouse version,
chain, region, node, top, the user's own marked firms) in a thread-safe LRU: users without
marks share one list, and a new mark makes the marker's next list leave the firm out."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, allows
from chainatlas.atlas.model import Chain
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_codes, region_full_name
from chainatlas.services.target_marks import (
    MarkView,
    marked_usccs,
    marks_by_firm,
    set_mark,
    user_targets,
)
from chainatlas.services.targets import targets_xlsx
from chainatlas.targets.model import TargetList
from chainatlas.targets.weights import COMPONENTS
from chainatlas.web.readmodel import VersionedLRU
from chainatlas.web.routes._workflow import attachment
from chainatlas.web.security import TargetMarker, Viewer, require_chain
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import current_region, language, render, visible_chains

router = APIRouter()
TOP = 20
MAX_TOP = 100
CACHE_KEY = "targets.lists"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_cache_lock = threading.Lock()


def _lists(state: AppState) -> VersionedLRU[TargetList]:
    with _cache_lock:
        cache: VersionedLRU[TargetList] = state.caches.setdefault(CACHE_KEY, VersionedLRU(32))
        return cache


def page_region(request: Request, user: User, region: str | None) -> str:
    """The region asked for (a bad code is the user's error), else the one they look at."""
    if region:
        region = region.strip()
        if region not in region_codes():
            raise UserError(
                f"「地区」无效：{region} 不是行政区划代码",
                f"'region': {region} is not a region code",
            )
    return current_region(request, user)


def page_chain(request: Request, user: User, chain_id: str) -> Chain:
    atlas = app_state(request).atlas
    if chain_id not in atlas:
        raise UserError(
            f"「产业链」无效：没有产业链 {chain_id}", f"'chain': there is no chain {chain_id}"
        )
    require_chain(user, chain_id)
    return atlas[chain_id]


def _node(chain: Chain, node: str) -> str | None:
    node = node.strip()
    if not node:
        return None
    if node not in chain.node_ids:
        raise UserError(
            f"「环节」无效：产业链 {chain.id} 没有环节 {node}",
            f"'node': chain {chain.id} has no node {node}",
        )
    return node


def target_list(
    state: AppState,
    chain: Chain,
    region: str,
    node: str | None,
    *,
    top: int = TOP,
    excluded: frozenset[str] = frozenset(),
) -> TargetList:
    """The targets (cached per warehouse version and arguments)."""
    key = (chain.id, region, node or "", top, excluded)
    with state.warehouse.read() as wh:
        version = state.warehouse.version
        return _lists(state).get(
            version,
            key,
            lambda: user_targets(
                wh, state.settings, chain, region, node_id=node, top=top, excluded=excluded
            ),
        )


def own_marks(state: AppState, user: User, region: str, chain: Chain) -> frozenset[str]:
    """The firms this user marked on region × chain: left out of their lists."""
    with state.db.session() as session:
        return marked_usccs(session, region, chain.id, user.id)


def _name(item: Any, lang: str) -> str:
    return str(item.name_en if lang == "en" and item.name_en else item.name_zh)


def _mark_lines(marks: list[MarkView], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "who": m.who,
            "user_id": m.user_id,
            "kind": m.kind,
            "kind_name": m.kind_name(lang),
            "date": m.at.strftime("%Y-%m-%d"),
            "note": m.note,
        }
        for m in marks
    ]


@router.get("/targets", include_in_schema=False)
def targets_page(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str | None, Query(max_length=20)] = None,
    node: Annotated[str, Query(max_length=64)] = "",
    show_marked: bool = False,
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = TOP,
) -> Response:
    state = app_state(request)
    lang = language(request)
    code = page_region(request, user, region)
    chains = visible_chains(request, user)
    base: dict[str, Any] = {"region": code, "chains": chains, "f": {"chain": chain, "node": node}}
    if not chain.strip():
        return render(request, "targets.html", user, result=None, nodes=[], **base)
    chosen = page_chain(request, user, chain.strip())
    node_id = _node(chosen, node)
    if not state.warehouse.exists:
        return render(
            request, "targets.html", user, result=None, no_warehouse=True, nodes=[], **base
        )
    own = own_marks(state, user, code, chosen)
    excluded = frozenset() if show_marked else own
    result = target_list(state, chosen, code, node_id, top=top, excluded=excluded)
    usccs = [t.uscc for n in result.nodes for t in n.targets]
    with state.db.session() as session:
        marks = marks_by_firm(session, code, chosen.id, usccs)
    query = {"chain": chosen.id, "region": code, "node": node_id or "", "top": top}
    if show_marked:
        query["show_marked"] = 1
    return render(
        request,
        "targets.html",
        user,
        result=result,
        chain=chosen,
        chain_name=_name(chosen, lang),
        nodes=[(n.id, _name(n, lang)) for n in chosen.nodes],
        node_id=node_id or "",
        show_marked=show_marked,
        top=top,
        own_marked=len(own),
        marks={u: _mark_lines(m, lang) for u, m in marks.items()},
        components=COMPONENTS,
        weight_total=sum(result.weights.values()) or 1.0,
        can_mark=allows(user.role, Permission.mark_targets),
        export_query=urlencode(query),
        **{**base, "f": {"chain": chosen.id, "node": node_id or ""}},
    )


@router.post("/targets/mark", include_in_schema=False)
def mark_target(
    request: Request,
    user: TargetMarker,
    uscc: Annotated[str, Form(max_length=40)],
    chain: Annotated[str, Form(max_length=64)],
    region: Annotated[str, Form(max_length=20)],
    kind: Annotated[str, Form(max_length=20)],
    node: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    view_node: Annotated[str, Form(max_length=64)] = "",
    show_marked: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    state = app_state(request)
    chosen = page_chain(request, user, chain.strip())
    code = region.strip()
    with state.db.session() as session:
        set_mark(
            session,
            user,
            uscc=uscc,
            region=code,
            chain=chosen,
            kind=kind,
            node=node.strip(),
            note=note,
        )
    if request.headers.get("hx-request"):
        with state.db.session() as session:
            marks = marks_by_firm(session, code, chosen.id, [uscc.strip().upper()])
        lang = language(request)
        return render(
            request,
            "_tgt_marks.html",
            user,
            region=code,
            chain=chosen,
            node=node.strip(),
            view_node=view_node,
            show_marked=bool(show_marked),
            uscc=uscc.strip().upper(),
            lines=_mark_lines(marks.get(uscc.strip().upper(), []), lang),
            can_mark=True,
            just_marked=kind,
        )
    back = {"chain": chosen.id, "region": code, "node": view_node}
    if show_marked:
        back["show_marked"] = "1"
    return RedirectResponse(f"/targets?{urlencode(back)}", status_code=303)


@router.get("/targets/export", include_in_schema=False)
def export_targets(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)],
    region: Annotated[str | None, Query(max_length=20)] = None,
    node: Annotated[str, Query(max_length=64)] = "",
    show_marked: bool = False,
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = TOP,
) -> Response:
    """The list as XLSX (sheets 目标企业, 环节, 参数), as the page shows it to this user."""
    state = app_state(request)
    lang = language(request)
    code = page_region(request, user, region)
    chosen = page_chain(request, user, chain.strip())
    node_id = _node(chosen, node)
    excluded = frozenset() if show_marked else own_marks(state, user, code, chosen)
    result = target_list(state, chosen, code, node_id, top=top, excluded=excluded)
    with tempfile.TemporaryDirectory(prefix="chainatlas-targets-") as folder:
        path = Path(folder) / "targets.xlsx"
        targets_xlsx(result, path, lang=lang)
        body = path.read_bytes()
    if lang == "en":
        title = f"targets-{code}-{chosen.id}{'-' + node_id if node_id else ''}.xlsx"
    else:
        node_part = f"·{chosen.node(node_id).name_zh}" if node_id else ""
        title = f"{region_full_name(code)}·{chosen.name_zh}{node_part}招商目标企业.xlsx"
    ascii_name = f"targets-{code}-{chosen.id}.xlsx"
    headers = {"Content-Disposition": attachment(title, ascii_name)}
    return Response(body, media_type=XLSX_TYPE, headers=headers)
