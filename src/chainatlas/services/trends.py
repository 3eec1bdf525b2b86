"""Trends of a region on a chain: births, deaths, net change by year; LQ now vs N years ago;
the cluster quadrant of each node (docs/trends-peers.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.data import warehouse_is_synthetic
from chainatlas.diagnose.model import ChainRef, RegionRef
from chainatlas.diagnose.pipeline import UnknownRegionError, resolve_region
from chainatlas.engine.history import data_years, region_history
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.metrics.trends import (
    QUADRANT_ZH,
    QUADRANTS,
    births_deaths,
    cluster_quadrant,
    lq_change,
)
from chainatlas.services.diagnosis import open_warehouse
from chainatlas.settings import Settings

SCHEMA_ID = "chainatlas.trends/1"
DEFAULT_YEARS = 5

Quadrant = Literal["star", "mature", "emerging", "transforming", "none"]


class YearFlow(BaseModel):
    year: int
    births: int = Field(description="firms established in the year")
    deaths: int = Field(description="firms deregistered in the year")
    net: int = Field(description="births − deaths")


class NodeTrend(BaseModel):
    id: str
    name_zh: str
    name_en: str
    stage: str
    firms_then: int = Field(description="local firms active at the end of year_then")
    firms_now: int = Field(description="local firms active at the end of year_now")
    births: int = Field(description="births in year_then+1 … year_now")
    deaths: int
    net: int = Field(description="births − deaths = firms_now − firms_then")
    lq_then: float | None
    lq_now: float | None
    lq_delta: float = Field(description="lq_now − lq_then, an undefined LQ counted as 0")
    quadrant: Quadrant
    quadrant_zh: str
    series: list[YearFlow]


class RegionTrends(BaseModel):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    region: RegionRef
    chain: ChainRef
    synthetic_data: bool
    year_then: int
    year_now: int
    years: int = Field(description="year_now − year_then")
    latest_date: dt.date | None = Field(description="the latest establishment/exit date stored")
    last_year_partial: bool = Field(description="year_now is the latest year and not complete")
    exits_recorded: bool = Field(
        description="false when no firm of the warehouse has a deregistration date: deaths "
        "are then unknown, not zero"
    )
    firms_then: int = Field(description="distinct local firms on the chain at year_then")
    firms_now: int
    national_firms_then: int
    national_firms_now: int
    series: list[YearFlow] = Field(description="the chain as a whole (distinct firms)")
    quadrant_counts: dict[str, int]
    nodes: list[NodeTrend]

    model_config = {"populate_by_name": True}

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def nodes_frame(self) -> pl.DataFrame:
        """One row per node: node_id, name_zh, name_en, stage, firms_then, firms_now,
        births, deaths, net, lq_then, lq_now, lq_delta, quadrant, quadrant_zh."""
        rows = [n.model_dump(exclude={"series"}) for n in self.nodes]
        schema = {
            "id": pl.String,
            "name_zh": pl.String,
            "name_en": pl.String,
            "stage": pl.String,
            "firms_then": pl.Int64,
            "firms_now": pl.Int64,
            "births": pl.Int64,
            "deaths": pl.Int64,
            "net": pl.Int64,
            "lq_then": pl.Float64,
            "lq_now": pl.Float64,
            "lq_delta": pl.Float64,
            "quadrant": pl.String,
            "quadrant_zh": pl.String,
        }
        return pl.DataFrame(rows, schema=schema, orient="row").rename({"id": "node_id"})

    def series_frame(self) -> pl.DataFrame:
        """Long: region_code, chain_id, node_id, year, births, deaths, net (all nodes)."""
        rows = [
            (self.region.code, self.chain.id, n.id, f.year, f.births, f.deaths, f.net)
            for n in self.nodes
            for f in n.series
        ]
        schema = {
            "region_code": pl.String,
            "chain_id": pl.String,
            "node_id": pl.String,
            "year": pl.Int64,
            "births": pl.Int64,
            "deaths": pl.Int64,
            "net": pl.Int64,
        }
        return pl.DataFrame(rows, schema=schema, orient="row")


def resolve_chain(settings: Settings, chain_id: str, atlas: Mapping[str, Chain] | None) -> Chain:
    if atlas is None:
        from chainatlas.atlas import load_atlas

        atlas = load_atlas([settings.chains_dir] if settings.chains_dir else [])
    if chain_id not in atlas:
        raise UserError(
            f"没有产业链 {chain_id}（可用 chainatlas chains list 查看）",
            f"no chain {chain_id} in the atlas; try `chainatlas chains list`",
        )
    return atlas[chain_id]


def resolve_region_ref(code: str) -> RegionRef:
    try:
        return resolve_region(code)
    except UnknownRegionError:
        raise UserError(f"未知的行政区划代码 {code}", f"unknown region code {code}") from None


def require_enterprises(wh: Warehouse) -> None:
    # not `wh.has_table`: ibis' list_tables trips a duckdb DeprecationWarning
    built = wh.sql("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'node_facts'")
    if not built["n"].item() or wh.count("enterprises") == 0:
        raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")


def _flows(frame: pl.DataFrame) -> list[YearFlow]:
    return [YearFlow(**r) for r in frame.select("year", "births", "deaths", "net").to_dicts()]


def _opt(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def region_trends(
    settings: Settings,
    chain_id: str,
    region_code: str,
    *,
    years: int = DEFAULT_YEARS,
    as_of: int | None = None,
    atlas: Mapping[str, Chain] | None = None,
) -> RegionTrends:
    """Trends of `region_code` on `chain_id` between year_now − years and year_now.

    year_now is `as_of`, default the latest year of any establishment or deregistration date
    in the warehouse. Firms are counted at the end of each year (docs/trends-peers.md).
    """
    chain = resolve_chain(settings, chain_id, atlas)
    region = resolve_region_ref(region_code)
    if years < 1:
        raise UserError(f"年数须 ≥ 1（收到 {years}）", f"years must be ≥ 1 (got {years})")
    with open_warehouse(settings) as wh:
        require_enterprises(wh)
        span = data_years(wh)
        if span.last is None:
            raise UserError(
                "企业数据没有成立或注销日期，无法计算趋势",
                "no establishment or deregistration dates in the warehouse: no trends",
            )
        year_now = span.last if as_of is None else as_of
        if year_now > span.last:
            raise UserError(
                f"as_of {year_now} 晚于数据的最晚年份 {span.last}",
                f"as_of {year_now} is after the latest year of the data, {span.last}",
            )
        year_then = year_now - years
        history = region_history(wh, chain.id, region.level, region.code, [year_then, year_now])
        synthetic = warehouse_is_synthetic(wh)

    window = list(range(year_then + 1, year_now + 1))
    skeleton = pl.DataFrame({"node_id": [n.id for n in chain.nodes]})
    node_series = births_deaths(history.node_flows, window, ["node_id"], keys=skeleton)
    chain_series = births_deaths(history.chain_flows, window, [])
    change = lq_change(
        history.node_active, history.chain_active, year_then=year_then, year_now=year_now
    )
    change = (
        skeleton.join(change, on="node_id", how="left")
        .with_columns(
            pl.col("firms_then").fill_null(0),
            pl.col("firms_now").fill_null(0),
            pl.col("lq_delta").fill_null(0.0),
        )
        .with_columns(cluster_quadrant())
    )
    rows = {r["node_id"]: r for r in change.iter_rows(named=True)}
    series = node_series.partition_by("node_id", as_dict=True)
    chain_active = {r["year"]: r for r in history.chain_active.iter_rows(named=True)}

    def chain_count(year: int, column: str) -> int:
        return int(chain_active.get(year, {}).get(column) or 0)

    nodes = []
    for n in chain.nodes:
        r = rows[n.id]
        flows = series[(n.id,)]
        nodes.append(
            NodeTrend(
                id=n.id,
                name_zh=n.name_zh,
                name_en=n.name_en,
                stage=n.stage,
                firms_then=int(r["firms_then"]),
                firms_now=int(r["firms_now"]),
                births=int(flows["births"].sum()),
                deaths=int(flows["deaths"].sum()),
                net=int(flows["net"].sum()),
                lq_then=_opt(r["lq_then"]),
                lq_now=_opt(r["lq_now"]),
                lq_delta=round(float(r["lq_delta"]), 4),
                quadrant=r["quadrant"],
                quadrant_zh=QUADRANT_ZH[r["quadrant"]],
                series=_flows(flows),
            )
        )
    last_date = span.last_date
    return RegionTrends(
        region=region,
        chain=ChainRef(id=chain.id, name_zh=chain.name_zh, name_en=chain.name_en),
        synthetic_data=synthetic,
        year_then=year_then,
        year_now=year_now,
        years=years,
        latest_date=last_date,
        last_year_partial=bool(
            last_date and year_now == last_date.year and last_date < dt.date(year_now, 12, 31)
        ),
        exits_recorded=span.exits_recorded,
        firms_then=chain_count(year_then, "firm_count"),
        firms_now=chain_count(year_now, "firm_count"),
        national_firms_then=chain_count(year_then, "national_firm_count"),
        national_firms_now=chain_count(year_now, "national_firm_count"),
        series=_flows(chain_series),
        quadrant_counts={q: sum(1 for n in nodes if n.quadrant == q) for q in QUADRANTS},
        nodes=nodes,
    )
