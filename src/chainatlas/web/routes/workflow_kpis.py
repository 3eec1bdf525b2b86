"""考核 ("绩"在链上评): the KPIs of each chain and each member unit for a period, and the
weighted score ranking. The weights are a form on the page (checked by
`workflow.kpis.check_weights`; the defaults are shown beside them); the chains also carry
the current completeness of the region looked at, from the diagnoses, which a weight may
count too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chainatlas.errors import UserError
from chainatlas.web.readmodel import region_overview
from chainatlas.web.routes._workflow import (
    chain_choices,
    check_chain,
    is_scoped,
    message,
    page_context,
    parse_day,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import current_region, language, render
from chainatlas.workflow.assessment import chain_ranking, unit_ranking
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.kpis import DEFAULT_WEIGHTS, LOWER_IS_BETTER, METRICS

router = APIRouter()
COMPLETENESS = "completeness"
WEIGHT_PREFIX = "w_"
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    en: str
    kind: str  # count | amount | rate | days
    lower_is_better: bool
    default_weight: float


def _kind(metric: str) -> str:
    if metric.startswith("amount"):
        return "amount"
    if metric == "on_time_rate":
        return "rate"
    if metric == "avg_days_to_resolve":
        return "days"
    return "count"


CHAIN_COLUMNS: tuple[Column, ...] = (
    *(
        Column(m.id, m.zh, m.en, _kind(m.id), m.id in LOWER_IS_BETTER, DEFAULT_WEIGHTS.get(m.id, 0))
        for m in METRICS.values()
    ),
    Column(
        COMPLETENESS, "产业链完整度（当前地区）", "completeness (this region)", "rate", False, 0
    ),
)
UNIT_COLUMNS = CHAIN_COLUMNS[:-1]


def parse_weights(request: Request) -> tuple[dict[str, float], bool]:
    """The weights in the query string (`w_<metric>`), or the defaults when none is given;
    a value that is not a number, negative or too large names the metric."""
    given = {
        c.id: request.query_params[WEIGHT_PREFIX + c.id].strip()
        for c in CHAIN_COLUMNS
        if WEIGHT_PREFIX + c.id in request.query_params
    }
    if not given:
        return {c.id: c.default_weight for c in CHAIN_COLUMNS}, False
    weights = {}
    for column in CHAIN_COLUMNS:
        raw = given.get(column.id, "") or "0"
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= MAX_WEIGHT:
            raise UserError(
                f"指标「{column.zh}」的权重无效：{raw[:20]}（应为 0–{MAX_WEIGHT:g} 的数）",
                f"the weight of {column.en} is invalid: {raw[:20]} (a number from 0 to "
                f"{MAX_WEIGHT:g})",
            )
        weights[column.id] = value
    return weights, True


def _completeness(state: AppState, region: str) -> pl.DataFrame | None:
    if not state.warehouse.exists:
        return None
    overview = region_overview(state, region)
    return pl.DataFrame(
        {
            "chain_id": list(overview),
            COMPLETENESS: [o.completeness for o in overview.values()],
        },
        schema={"chain_id": pl.String(), COMPLETENESS: pl.Float64()},
    )


def _period(start: str, end: str) -> tuple[date, date]:
    today = local_today()
    first = parse_day(start, "统计期开始日", "period start") or date(today.year, 1, 1)
    last = parse_day(end, "统计期结束日", "period end") or today
    return first, last


@router.get("/kpis", include_in_schema=False)
def kpis_page(
    request: Request,
    user: Viewer,
    start: Annotated[str, Query(max_length=20)] = "",
    end: Annotated[str, Query(max_length=20)] = "",
    chain: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    state = app_state(request)
    region = current_region(request, user)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(state, actor, chain)
        chains = sorted(actor.chain_ids) if is_scoped(actor) else None
        # a scoped user's member units are those of its chains: rank within one of them
        if chain_id is None and chains:
            chain_id = chains[0]
        weights = {c.id: c.default_weight for c in CHAIN_COLUMNS}
        customised = False
        chain_rows: list[dict[str, Any]] = []
        unit_rows: list[dict[str, Any]] = []
        error = ""
        first, last = local_today().replace(month=1, day=1), local_today()
        try:
            first, last = _period(start, end)
            weights, customised = parse_weights(request)
            extra = _completeness(state, region)
            chain_rows = chain_ranking(
                session,
                actor,
                start=first,
                end=last,
                weights=weights,
                chain_ids=chains,
                extra=extra,
            ).to_dicts()
            unit_weights = {k: v for k, v in weights.items() if k != COMPLETENESS}
            if any(unit_weights.values()):
                unit_rows = unit_ranking(
                    session,
                    actor,
                    start=first,
                    end=last,
                    weights=unit_weights,
                    chain_id=chain_id,
                ).to_dicts()
        except UserError as exc:
            reraise_refusal(exc)
            error = message(request, exc)
        return render(
            request,
            "wf_kpis.html",
            user,
            status_code=422 if error else 200,
            **page_context(request, user, actor),
            chain_rows=chain_rows,
            unit_rows=unit_rows,
            chain_columns=CHAIN_COLUMNS,
            unit_columns=UNIT_COLUMNS,
            weights=weights,
            customised=customised,
            weight_prefix=WEIGHT_PREFIX,
            start=first,
            end=last,
            f={"chain": chain_id or ""},
            chains=chain_choices(state, actor, language(request)),
            error=error,
        )
