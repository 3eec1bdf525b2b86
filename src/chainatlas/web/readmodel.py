"""What the analysis pages (首页, 产业链图谱, 诊断) read: figures computed once per warehouse
version and kept in the process.

A page never rescans the enterprises per request. Every figure is computed inside
`state.warehouse.read()` and cached under the warehouse's `version` (it changes with every
load), so a load makes every cached figure unreachable and the next request recomputes it.

- `level_diagnosis`: `diagnose_all` for every region of one level (the dashboard's counts and
  completeness for all chains of a region), slimmed to what the pages show;
- `region_diagnosis`: the full `Diagnosis` of one chain × region (LRU);
- `node_firms`, `region_trend`, `recent_changes`, `province_totals`, `data_span`: the small
  reads of the node panel, the dashboard and the China map;
- `chain_graph`: the chain map (layout of `briefing.chain_map`, coloured by a diagnosis) as
  the JSON `static/js/chain_graph.js` draws; `chain_map_print` the static SVG for paper;
- `cached_fragment`: the parts of a page that are the same for every user (drawn from the
  figures above), so a warm request renders only its own shell.

Caches are `VersionedLRU`s kept in `state.caches`: thread-safe, and concurrent requests for
the same key compute it once (the others wait for that result).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

import ibis
import polars as pl
from sqlalchemy import select

from chainatlas.atlas.model import Chain
from chainatlas.briefing.chain_map import (
    BREAK_COLOUR,
    EDGE_COLOUR,
    EDGE_FADED,
    LANE_FILLS,
    RECYCLE_COLOUR,
    STAGE_NAMES,
    STRIP_FILL,
    STRIP_TEXT,
    chain_map_svg,
    layout,
    route_edges,
)
from chainatlas.db.audit import AuditEntry
from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.diagnose.batch import diagnose_all
from chainatlas.diagnose.data import LEVEL_COLUMN
from chainatlas.engine.history import DataYears, data_years, flows, in_region, region_history
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.metrics.trends import births_deaths
from chainatlas.reference.regions import load_regions, region_codes
from chainatlas.services.enterprise_search import RegionRows
from chainatlas.web.state import AppState

_log = logging.getLogger(__name__)

V = TypeVar("V")

STATUSES = ("missing", "weak", "present", "strong")
TREND_YEARS = 10  # the node panel's firms-per-year window
TOP_GAPS = 3
NODE_FIRMS = 10

_caches_lock = threading.Lock()


class VersionedLRU(Generic[V]):
    """A least-recently-used cache keyed by (warehouse version, key).

    Thread-safe; a key asked for by several threads at once is computed by the first and
    awaited by the others. When a request brings a new version, entries of other versions
    are dropped (they can never be asked for again). Errors are passed to every waiter and
    not cached."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[str, Hashable], V] = OrderedDict()
        self._pending: dict[tuple[str, Hashable], Future[V]] = {}
        self._version: str | None = None
        self.computed = 0  # how many times a value was computed (for tests and benchmarks)

    def get(self, version: str, key: Hashable, compute: Callable[[], V]) -> V:
        full = (version, key)
        with self._lock:
            if version != self._version:
                self._version = version
                for stale in [k for k in self._data if k[0] != version]:
                    del self._data[stale]
            if full in self._data:
                self._data.move_to_end(full)
                return self._data[full]
            pending = self._pending.get(full)
            owner = pending is None
            if pending is None:
                pending = self._pending[full] = Future()
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[full]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[full]
            self.computed += 1
            if version == self._version:
                self._data[full] = value
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
        pending.set_result(value)
        return value

    def __len__(self) -> int:
        return len(self._data)


def _cache(state: AppState, name: str, maxsize: int) -> VersionedLRU[Any]:
    key = f"readmodel.{name}"
    with _caches_lock:
        found = state.caches.get(key)
        if found is None:
            found = state.caches[key] = VersionedLRU(maxsize)
        return found


def search_cache(state: AppState) -> VersionedLRU[Any]:
    """Enterprise search results (one page each), per warehouse version."""
    return _cache(state, "search", 512)


def region_rows_cache(state: AppState) -> VersionedLRU[Any]:
    """The firms of the cities and counties searched lately (`read_region_rows`), per
    warehouse version: a new search inside one of them filters these rows in memory (a few
    ms) instead of scanning the warehouse (16–38 ms a city on a national one). A city of a
    10 M-firm warehouse holds about 30 k rows, some 4 MB."""
    return _cache(state, "search_regions", 48)


def region_rows(state: AppState) -> RegionRows:
    """`search_enterprises`' region_rows over `region_rows_cache`, for a reader inside
    `state.warehouse.read()` (the version is the one it reads)."""
    version, kept = state.warehouse.version, region_rows_cache(state)
    return lambda code, read: kept.get(version, code, read)


def _read(
    state: AppState, name: str, maxsize: int, key: Hashable, compute: Callable[[Warehouse], V]
) -> V:
    """`compute(wh)` cached under the warehouse version (read inside the read gate: the
    version is stable while any reader holds it)."""
    with state.warehouse.read() as wh:
        version = state.warehouse.version
        return _cache(state, name, maxsize).get(version, key, lambda: compute(wh))


# --- regions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    level: str
    parent: str | None


@cache
def _regions() -> dict[str, RegionInfo]:
    return {
        r["region_code"]: RegionInfo(r["region_code"], r["name"], r["level"], r["parent_code"])
        for r in load_regions()
        .select("region_code", "name", "level", "parent_code")
        .iter_rows(named=True)
    }


@cache
def _children() -> dict[str | None, list[RegionInfo]]:
    out: dict[str | None, list[RegionInfo]] = {}
    for info in _regions().values():
        out.setdefault(info.parent, []).append(info)
    return out


def region_info(code: str) -> RegionInfo:
    """The region of a code; an unknown code is the user's error."""
    info = _regions().get(code)
    if info is None:
        raise UserError(
            f"未知的行政区划代码 {code}（应为 6 位 GB/T 2260 代码）",
            f"unknown region code {code} (expected a 6-digit GB/T 2260 code)",
        )
    return info


def place_name(code: str) -> str:
    """The short name of a region (a dict lookup: pages name many firms' counties)."""
    info = _regions().get(code)
    return info.name if info else code


def region_children(parent: str | None) -> list[RegionInfo]:
    """The regions directly under `parent` (None: the provinces), by code."""
    return sorted(_children().get(parent, []), key=lambda r: r.code)


def region_path(code: str) -> list[RegionInfo]:
    """The region and its ancestors, province first."""
    path: list[RegionInfo] = []
    cursor: str | None = code
    while cursor is not None and cursor in _regions():
        path.append(_regions()[cursor])
        cursor = _regions()[cursor].parent
    return list(reversed(path))


def region_choices(code: str) -> list[dict[str, Any]]:
    """The three selects of the region picker (province → city → county): the options of
    each (children of the selection one up) and which one is selected."""
    path = region_path(code) if code in region_codes() else []
    selects: list[dict[str, Any]] = []
    parent: str | None = None
    for depth in range(3):
        options = region_children(parent) if depth == 0 or parent else []
        chosen = path[depth].code if depth < len(path) else ""
        selects.append(
            {"options": [(r.code, r.name) for r in options], "selected": chosen, "depth": depth}
        )
        parent = chosen or None
    return selects


# --- diagnosis of a whole level ----------------------------------------------------------
NODE_COLUMNS = (
    "region_code",
    "chain_id",
    "node_id",
    "weight",
    "firm_count",
    "national_firm_count",
    "lq",
    "status",
    "break",
)


@dataclass(frozen=True)
class LevelDiagnosis:
    """`diagnose_all` of one level: per region × chain (firm_count, completeness, the status
    counts, local sourcing) and per region × chain × node (NODE_COLUMNS)."""

    level: str
    version: str
    chains: pl.DataFrame
    nodes: pl.DataFrame


def level_diagnosis(state: AppState, level: str) -> LevelDiagnosis:
    """Every region of `level` on every chain (`diagnose/batch.py`), once per version."""
    if level not in LEVEL_COLUMN:
        raise ValueError(f"unknown level {level!r}")

    with state.warehouse.read() as wh:
        version = state.warehouse.version

        def compute() -> LevelDiagnosis:
            batch = diagnose_all(wh, state.atlas, level, state.settings.status)
            nodes = batch.nodes.select(NODE_COLUMNS).sort("region_code", "chain_id")
            return LevelDiagnosis(level, version, batch.chains, nodes)

        return _cache(state, "level_diagnosis", 3).get(version, level, compute)


def warm_up(state: AppState) -> None:
    """Compute what the first dashboard needs before anyone asks: the batch diagnosis of the
    home region's level (6–7 s on a national warehouse, otherwise paid by the first user),
    its overview, then the provinces'. Runs in a background thread after start-up and after
    every load; a failure only costs the warm cache (the page computes it when asked)."""
    if not state.warehouse.exists:
        return
    home = state.settings.demo_region
    try:
        info = region_info(home)
        for level in dict.fromkeys((info.level, "province")):
            if state.stopping.is_set():
                return
            level_diagnosis(state, level)
        if not state.stopping.is_set():
            region_overview(state, home)
    except Exception:  # warming is an optimisation: the pages still compute when asked
        _log.warning("warm-up of the page caches failed", exc_info=True)


def start_warm_up(state: AppState) -> threading.Thread:
    thread = threading.Thread(target=warm_up, args=(state,), name="warm-up", daemon=True)
    state.background[:] = [t for t in state.background if t.is_alive()] + [thread]
    thread.start()
    return thread


def stop_background(state: AppState, timeout: float = 60.0) -> None:
    """At shutdown: let the warm-up finish the step it is in and stop there, so no thread
    is left inside DuckDB when the warehouse closes and the process exits."""
    state.stopping.set()
    for thread in state.background:
        thread.join(timeout)


@dataclass(frozen=True)
class Gap:
    node_id: str
    status: str
    is_break: bool
    weight: float
    firm_count: int


@dataclass(frozen=True)
class ChainOverview:
    chain_id: str
    firm_count: int
    completeness: float
    counts: dict[str, int]  # missing, weak, present, strong, break
    local_sourcing_rate: float | None
    single_points_of_failure: int
    gaps: list[Gap]  # the most important missing / weak / break nodes


def _gap_rank(row: dict[str, Any]) -> tuple[Any, ...]:
    # a break cuts the local flow: first; then the heavier node, a missing before a weak
    # one, the node with more firms nationally (a bigger industry to fill)
    return (
        not row["break"],
        -float(row["weight"]),
        row["status"] != "missing",
        -int(row["national_firm_count"]),
        row["node_id"],
    )


def region_overview(state: AppState, region_code: str) -> dict[str, ChainOverview]:
    """Chain id → overview of the region on that chain (from `level_diagnosis`)."""
    info = region_info(region_code)
    # not inside a read of its own: a nested read could wait on a waiting writer forever
    batch = level_diagnosis(state, info.level)

    def compute() -> dict[str, ChainOverview]:
        chains = batch.chains.filter(pl.col("region_code") == region_code)
        nodes = batch.nodes.filter(pl.col("region_code") == region_code)
        by_chain = nodes.partition_by("chain_id", as_dict=True)
        out: dict[str, ChainOverview] = {}
        for row in chains.iter_rows(named=True):
            cid = row["chain_id"]
            chain_nodes = by_chain.get((cid,), nodes.clear())
            gaps = sorted(
                (
                    r
                    for r in chain_nodes.iter_rows(named=True)
                    if r["status"] in ("missing", "weak") or r["break"]
                ),
                key=_gap_rank,
            )[:TOP_GAPS]
            rate = row.get("local_sourcing_rate")
            out[cid] = ChainOverview(
                chain_id=cid,
                firm_count=int(row["firm_count"]),
                completeness=float(row["completeness"]),
                counts={k: int(row[k]) for k in (*STATUSES, "break")},
                local_sourcing_rate=None if rate is None else float(rate),
                single_points_of_failure=int(row.get("single_points_of_failure") or 0),
                gaps=[
                    Gap(
                        r["node_id"],
                        r["status"],
                        bool(r["break"]),
                        float(r["weight"]),
                        int(r["firm_count"]),
                    )
                    for r in gaps
                ],
            )
        return out

    return _cache(state, "region_overview", 64).get(batch.version, region_code, compute)


# --- one chain × one region --------------------------------------------------------------
def region_diagnosis(state: AppState, chain_id: str, region_code: str) -> Diagnosis:
    """The full diagnosis (lead firms, sourcing, actions) of `chain_id` in `region_code`."""
    chain = state.atlas[chain_id]
    region_info(region_code)

    def compute(wh: Warehouse) -> Diagnosis:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        return diagnose(wh, chain, region_code, state.settings.status, state.settings.lead_firm)

    return _read(state, "region_diagnosis", 128, (chain_id, region_code), compute)


@dataclass(frozen=True)
class NodeFirms:
    total: int
    firms: list[dict[str, Any]]  # uscc, name, region_code, registered_capital, revenue, tags…


def node_firms(
    state: AppState, chain_id: str, node_id: str, region_code: str, limit: int = NODE_FIRMS
) -> NodeFirms:
    """The region's active firms on a node, largest registered capital first (the sorted
    `chain_firms` table: a region's rows of a chain sit together)."""
    info = region_info(region_code)

    def compute(wh: Warehouse) -> NodeFirms:
        t = wh.table("chain_firms")
        mine = t.filter(
            (t.chain_id == chain_id)
            & (t.node_id == node_id)
            & (t[LEVEL_COLUMN[info.level]] == region_code)
        )
        total = int(wh.to_polars(mine.aggregate(n=mine.count())).item())
        top = mine.order_by(
            [ibis.desc(mine.registered_capital.fill_null(0)), mine.national_rank, mine.uscc]
        ).limit(limit)
        columns = [
            "uscc",
            "name",
            "region_code",
            "registered_capital",
            "revenue",
            "tags",
            "established",
            "national_rank",
        ]
        rows = wh.to_polars(top.select(columns)).to_dicts()
        for r in rows:
            r["tags"] = [tag for tag in (r["tags"] or "").split(";") if tag]
        return NodeFirms(total, rows)

    return _read(state, "node_firms", 512, (chain_id, node_id, region_code, limit), compute)


def data_span(state: AppState) -> DataYears:
    """The earliest and latest establishment / deregistration years of the warehouse."""
    return _read(state, "data_span", 1, "span", data_years)


@dataclass(frozen=True)
class TrendPoint:
    year: int
    firms: int  # active at the end of the year
    births: int
    deaths: int


@dataclass(frozen=True)
class RegionTrend:
    years: list[int]
    last_date: Any  # datetime.date | None
    exits_recorded: bool
    nodes: dict[str, list[TrendPoint]] = field(default_factory=dict)


def region_trend(state: AppState, chain_id: str, region_code: str) -> RegionTrend | None:
    """Firms per year of each node of the chain in the region (the last TREND_YEARS years of
    the data), from the cube's cohort tables; None without dates."""
    chain = state.atlas[chain_id]
    info = region_info(region_code)
    span = data_span(state)
    if span.last is None:
        return None
    last = span.last

    def compute(wh: Warehouse) -> RegionTrend | None:
        if not wh.has_table("node_cohorts"):  # a warehouse built before the cohort tables
            return None
        years = list(range(last - TREND_YEARS + 1, last + 1))
        history = region_history(wh, chain_id, info.level, region_code, years)
        skeleton = pl.DataFrame({"node_id": list(chain.node_ids)})
        events = births_deaths(history.node_flows, years, ["node_id"], keys=skeleton)
        active = history.node_active.select("node_id", "year", "firm_count")
        merged = events.join(active, on=["node_id", "year"], how="left").with_columns(
            pl.col("firm_count").fill_null(0)
        )
        nodes: dict[str, list[TrendPoint]] = {}
        for r in merged.sort("node_id", "year").iter_rows(named=True):
            nodes.setdefault(r["node_id"], []).append(
                TrendPoint(int(r["year"]), int(r["firm_count"]), int(r["births"]), int(r["deaths"]))
            )
        return RegionTrend(years, span.last_date, span.exits_recorded, nodes)

    return _read(state, "region_trend", 64, (chain_id, region_code), compute)


@dataclass(frozen=True)
class ChainChange:
    births: int  # firms established in the last data year
    deaths: int  # firms deregistered in it
    births_before: int  # established in the year before


@dataclass(frozen=True)
class RecentChanges:
    year: int
    last_date: Any  # datetime.date
    partial: bool  # the last year is not complete
    exits_recorded: bool
    chains: dict[str, ChainChange]


def recent_changes(state: AppState, region_code: str) -> RecentChanges | None:
    """Births and deaths of firms on each chain in the region in the last data year (and
    births the year before), from the cube's `chain_cohorts`; None without dates."""
    info = region_info(region_code)
    span = data_span(state)
    if span.last is None or span.last_date is None:
        return None
    year, last_date = span.last, span.last_date

    def compute(wh: Warehouse) -> RecentChanges | None:
        if not wh.has_table("chain_cohorts"):
            return None
        cohorts = in_region(wh.table("chain_cohorts"), info.level, region_code)
        events = wh.to_polars(flows(cohorts, ["chain_id"], "firms")).filter(
            pl.col("year") >= year - 1
        )
        chains: dict[str, ChainChange] = {}
        for cid in state.atlas:
            mine = events.filter(pl.col("chain_id") == cid)

            def total(column: str, in_year: int, frame: pl.DataFrame = mine) -> int:
                return int(frame.filter(pl.col("year") == in_year)[column].sum() or 0)

            chains[cid] = ChainChange(
                births=total("births", year),
                deaths=total("deaths", year),
                births_before=total("births", year - 1),
            )
        partial = (last_date.month, last_date.day) != (12, 31)
        return RecentChanges(year, last_date, partial, span.exits_recorded, chains)

    return _read(state, "recent_changes", 64, region_code, compute)


def province_totals(state: AppState, chain_id: str) -> dict[str, int]:
    """Province code → active firms on the chain (the cube's chain_facts), for the map."""

    def compute(wh: Warehouse) -> pl.DataFrame:
        t = wh.table("chain_facts")
        expr = t.group_by(["chain_id", "province_code"]).aggregate(
            firm_count=t.firm_count.sum().cast("int64")
        )
        return wh.to_polars(expr)

    frame = _read(state, "province_totals", 1, "all", compute)
    mine = frame.filter(pl.col("chain_id") == chain_id)
    return dict(zip(mine["province_code"].to_list(), mine["firm_count"].to_list(), strict=True))


def recent_data_loads(state: AppState, limit: int = 5) -> list[AuditEntry]:
    """The latest data loads recorded in the audit log (actions `data.…`)."""
    with state.db.session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("data.%"))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
        )


# --- chain graph -------------------------------------------------------------------------
_POINT = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


def _arrow(d: str) -> dict[str, float] | None:
    """Where an edge path ends and the direction it arrives in (from its last two points)."""
    points = [(float(x), float(y)) for x, y in _POINT.findall(d)]
    if len(points) < 2:
        return None
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return {"x": x1, "y": y1, "angle": math.atan2(y1 - y0, x1 - x0)}


def _node_name(chain: Chain, node_id: str, lang: str) -> str:
    node = chain.node(node_id)
    return node.name_en if lang == "en" and node.name_en else node.name_zh


def chain_graph(
    chain: Chain, diagnosis: Diagnosis | None, lang: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The chain map as JSON for `chain_graph.js`: the layout of `briefing.chain_map` (stage
    bands, columns by supply layer, routed edges) with each node's status in the region.

    `labels`: the words the drawing needs in the page's language (firms unit, status names,
    break, recycling)."""
    diag = {n.id: n for n in diagnosis.nodes} if diagnosis else {}
    lay = layout(chain, lang, with_stats=diagnosis is not None, title=False)
    missing = {k for k, n in diag.items() if n.status == "missing"}
    breaks = {k for k, n in diag.items() if n.is_break}
    routes = route_edges(chain, lay, missing, breaks)
    geo = lay.geo
    zh = lang == "zh"
    band_x = geo.margin + geo.strip_w
    legend_h = 46.0  # the SVG's legend strip; the page draws its own legend
    width = lay.width
    height = lay.height - legend_h
    lanes = [
        {
            "stage": lane.stage,
            "name": STAGE_NAMES.get(lane.stage, (lane.stage, lane.stage))[0 if zh else 1],
            "sub": STAGE_NAMES.get(lane.stage, (lane.stage, lane.stage))[1 if zh else 0],
            "top": lane.top,
            "height": lane.height,
            "fill": LANE_FILLS[i % 2],
        }
        for i, lane in enumerate(lay.lanes)
    ]
    edges = []
    for r in routes:
        e = r.edge
        tip = f"{_node_name(chain, e.supplier, lang)} → {_node_name(chain, e.customer, lang)}"
        if e.flow:
            tip += ("：" if zh else ": ") + e.flow
        label = ""
        if e.recycling and r.label_at:
            label = (
                (labels["recycling"] + ("：" + e.flow if e.flow else ""))
                if zh
                else (labels["recycling"] + (f" ({e.flow})" if e.flow else ""))
            )
        edges.append(
            {
                "source": e.supplier,
                "target": e.customer,
                "d": r.d,
                "recycling": e.recycling,
                "faded": r.faded,
                "arrow": _arrow(r.d),
                "tip": tip,
                "label": label,
                "label_at": list(r.label_at) if r.label_at else None,
            }
        )
    nodes = []
    for n in chain.nodes:
        b = lay.boxes[n.id]
        dn = diag.get(n.id)
        size = lay.label_sizes.get(n.id, geo.name_size)
        stats = ""
        if dn is not None:
            count = f"{dn.firm_count:,}{labels['firms_unit']}"
            lq = "—" if dn.lq is None else f"{dn.lq:.2f}"
            status = labels[f"status_{dn.status}"]
            stats = (
                f"{count} · {status}" if dn.status == "missing" else f"{count} · LQ {lq} · {status}"
            )
        nodes.append(
            {
                "id": n.id,
                "name": n.name_en if not zh and n.name_en else n.name_zh,
                "stage": n.stage,
                "x": b.x,
                "y": b.y,
                "w": b.w,
                "h": b.h,
                "lines": lay.labels[n.id],
                "size": size,
                "line": geo.name_line * size / geo.name_size,
                "stats": stats,
                "status": dn.status if dn else None,
                "break": bool(dn and dn.is_break),
                "firms": dn.firm_count if dn else None,
                "lq": dn.lq if dn else None,
            }
        )
    return {
        "chain": chain.id,
        "width": width,
        "height": height,
        "strip": {"x": geo.margin, "w": geo.strip_w, "fill": STRIP_FILL, "ink": STRIP_TEXT},
        "band": {"x": band_x, "w": width - geo.margin - band_x},
        "lanes_top": lay.lanes_top,
        "lanes_bottom": lay.lanes_bottom,
        "stat_size": geo.stat_size,
        "lanes": lanes,
        "edges": edges,
        "nodes": nodes,
        "colours": {
            "edge": EDGE_COLOUR,
            "faded": EDGE_FADED,
            "recycling": RECYCLE_COLOUR,
            "break": BREAK_COLOUR,
        },
        "labels": dict(labels),
    }


def graph_layout_cached(
    state: AppState, chain: Chain, diagnosis: Diagnosis | None, lang: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    """`chain_graph`, kept per (version, chain, region, language)."""
    region = diagnosis.region.code if diagnosis else ""
    key = (chain.id, region, lang, tuple(sorted(labels.items())))
    with state.warehouse.read():
        version = state.warehouse.version
    return _cache(state, "chain_graph", 256).get(
        version, key, lambda: chain_graph(chain, diagnosis, lang, labels)
    )


def chain_map_print(state: AppState, chain: Chain, diagnosis: Diagnosis, lang: str) -> str:
    """The same map as the briefing's static SVG (`chain_map_svg`), for printing: vector,
    scaled to the paper, with no script to run."""
    key = (chain.id, diagnosis.region.code, lang)
    with state.warehouse.read():
        version = state.warehouse.version
    return _cache(state, "chain_map_svg", 64).get(
        version, key, lambda: chain_map_svg(chain, diagnosis, lang, title=False)
    )


def cached_fragment(state: AppState, key: Hashable, draw: Callable[[], str]) -> str:
    """An HTML fragment drawn from cached figures, kept under the warehouse version."""
    with state.warehouse.read():
        version = state.warehouse.version
    return _cache(state, "fragments", 512).get(version, key, draw)
