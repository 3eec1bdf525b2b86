"""考核 ("绩"在链上评): the KPIs of each chain and each member unit for a period, and the
weighted score ranking. The weights are a form on the page (checked by
`workflow.kpis.check_weights`; the defaults are shown beside them). The chains also carry
the analytics of the region looked at: its current completeness (from the diagnoses) and,
over the period, completeness then → now, its change and the gaps filled and opened
(`services.kpi_analytics`, cached per warehouse version by `web.kpi_cache`); weights may
count the current completeness, the change and the gaps filled (default 0)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.errors import UserError
from chainatlas.metrics.completeness_change import CHANGE_SCHEMA
from chainatlas.services.kpi_analytics import PeriodYears
from chainatlas.web.i18n import translate
from chainatlas.web.kpi_cache import cached_completeness_changes
from chainatlas.web.readmodel import region_overview
from chainatlas.web.routes._workflow import (
    chain_choices,
    check_chain,
    failure_status,
    is_scoped,
    message,
    page_context,
    parse_day,
    parse_id,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import current_region, language, render
from chainatlas.workflow.access import Action, Kind, Target, may
from chainatlas.workflow.assessment import chain_ranking, unit_ranking
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.kpi_weights import MAX_WEIGHT, set_year_weights, year_weights
from chainatlas.workflow.kpis import DEFAULT_WEIGHTS, LOWER_IS_BETTER, METRICS
from chainatlas.workflow.models import KpiWeights

router = APIRouter()
COMPLETENESS = "completeness"
COMPLETENESS_SPAN = "completeness_span"  # then → now, shown, not weighed
COMPLETENESS_CHANGE = "completeness_change"
GAPS_FILLED = "gaps_filled"
GAPS_OPENED = "gaps_opened"
WEIGHT_PREFIX = "w_"
PROJECTS, CASES, ANALYTICS = "projects", "cases", "analytics"


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    en: str
    kind: str  # count | amount | rate | days | share | change (percentage points) | span
    lower_is_better: bool
    default_weight: float
    group: str  # projects | cases | analytics (of the region looked at)
    weightable: bool = True


def _kind(metric: str) -> str:
    if metric.startswith("amount"):
        return "amount"
    if metric == "on_time_rate":
        return "rate"
    if metric == "avg_days_to_resolve":
        return "days"
    return "count"


def _group(metric: str) -> str:
    return PROJECTS if metric.startswith(("projects_", "amount_")) else CASES


def _analytics(
    column: str, kind: str, *, weightable: bool = True, lower_is_better: bool = False
) -> Column:
    key = f"wfk_col_{column}"
    return Column(
        column,
        translate(key, "zh"),
        translate(key, "en"),
        kind,
        lower_is_better,
        0,
        ANALYTICS,
        weightable,
    )


CHAIN_COLUMNS: tuple[Column, ...] = (
    *(
        Column(
            m.id,
            m.zh,
            m.en,
            _kind(m.id),
            m.id in LOWER_IS_BETTER,
            DEFAULT_WEIGHTS.get(m.id, 0),
            _group(m.id),
        )
        for m in METRICS.values()
    ),
    _analytics(COMPLETENESS, "share"),
    _analytics(COMPLETENESS_SPAN, "span", weightable=False),
    _analytics(COMPLETENESS_CHANGE, "change"),
    _analytics(GAPS_FILLED, "count"),
    _analytics(GAPS_OPENED, "count", weightable=False, lower_is_better=True),
)
UNIT_COLUMNS = tuple(c for c in CHAIN_COLUMNS if c.group != ANALYTICS)
WEIGHT_COLUMNS = tuple(c for c in CHAIN_COLUMNS if c.weightable)
ANALYTICS_WEIGHTS = frozenset(c.id for c in WEIGHT_COLUMNS if c.group == ANALYTICS)


def column_groups(columns: tuple[Column, ...]) -> list[tuple[str, int]]:
    """(group, number of columns) in the order the columns come: the header row above."""
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


def parse_weights(params: Mapping[str, Any]) -> tuple[dict[str, float], bool]:
    """The weights in the query string or form (`w_<metric>`), or the defaults when none is
    given; a value that is not a number, negative or too large names the metric."""
    given = {
        c.id: str(params[WEIGHT_PREFIX + c.id]).strip()
        for c in WEIGHT_COLUMNS
        if WEIGHT_PREFIX + c.id in params
    }
    if not given:
        return {c.id: c.default_weight for c in WEIGHT_COLUMNS}, False
    weights = {}
    for column in WEIGHT_COLUMNS:
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


ANALYTICS_SCHEMA = pl.Schema({COMPLETENESS: pl.Float64(), **CHANGE_SCHEMA})


def analytics_columns(
    state: AppState, region: str, first: date, last: date
) -> tuple[pl.DataFrame, PeriodYears | None]:
    """Per chain: the region's current completeness (the diagnoses), and its completeness
    then and now, change and gaps over the period; no rows without a warehouse (the
    columns are there, empty, so weights may still name them)."""
    changes = cached_completeness_changes(state, region, first, last)
    if changes is None:
        return pl.DataFrame(schema=ANALYTICS_SCHEMA), None
    overview = region_overview(state, region)
    current = pl.DataFrame(
        {
            "chain_id": list(overview),
            COMPLETENESS: [o.completeness for o in overview.values()],
        },
        schema={"chain_id": pl.String(), COMPLETENESS: pl.Float64()},
    )
    frame = current.join(changes.chains, on="chain_id", how="full", coalesce=True)
    return frame.select(list(ANALYTICS_SCHEMA)), changes.years


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
    return _kpis(request, user, start, end, chain, params=request.query_params)


@router.post("/kpis/weights", include_in_schema=False)
async def save_weights(request: Request, user: Viewer) -> Response:
    """Save the weights the page was computed with as its year's assessment weights (the
    year of the period's start), then show the page with them."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    start, end, chain = (form.get(k, "")[:64] for k in ("start", "end", "chain"))
    try:
        with workflow_session(request, user) as (session, actor):
            first, _last = _period(start, end)
            weights, _ = parse_weights(form)
            set_year_weights(
                session,
                actor,
                first.year,
                weights,
                known=[c.id for c in WEIGHT_COLUMNS],
                expected_version=parse_id(form.get("version", ""), "版本", "version"),
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _kpis(
            request,
            user,
            start,
            end,
            chain,
            params=form,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    query = urlencode({"start": start, "end": end, "chain": chain})
    return RedirectResponse(f"/kpis?{query}", status_code=303)


def _kpis(
    request: Request,
    user: User,
    start: str,
    end: str,
    chain: str,
    *,
    params: Mapping[str, Any],
    error: str = "",
    status_code: int | None = None,
) -> Response:
    state = app_state(request)
    region = current_region(request, user)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(state, actor, chain)
        chains = sorted(actor.chain_ids) if is_scoped(actor) else None
        # a scoped user's member units are those of its chains: rank within one of them
        if chain_id is None and chains:
            chain_id = chains[0]
        weights = {c.id: c.default_weight for c in WEIGHT_COLUMNS}
        customised = False
        saved: KpiWeights | None = None
        years: PeriodYears | None = None
        chain_rows: list[dict[str, Any]] = []
        unit_rows: list[dict[str, Any]] = []
        first, last = local_today().replace(month=1, day=1), local_today()
        try:
            first, last = _period(start, end)
            weights, customised = parse_weights(params)
            stored, saved = year_weights(session, first.year)
            if stored is not None and not customised:
                weights = {c.id: stored.get(c.id, 0.0) for c in WEIGHT_COLUMNS}
            extra, years = analytics_columns(state, region, first, last)
            chain_rows = chain_ranking(
                session,
                actor,
                start=first,
                end=last,
                weights=weights,
                chain_ids=chains,
                extra=extra,
            ).to_dicts()
            unit_weights = {k: v for k, v in weights.items() if k not in ANALYTICS_WEIGHTS}
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
            error = error or message(request, exc)
        return render(
            request,
            "wf_kpis.html",
            user,
            status_code=status_code or (422 if error else 200),
            **page_context(request, user, actor),
            chain_rows=chain_rows,
            unit_rows=unit_rows,
            chain_columns=CHAIN_COLUMNS,
            unit_columns=UNIT_COLUMNS,
            weight_columns=WEIGHT_COLUMNS,
            chain_groups=column_groups(CHAIN_COLUMNS),
            unit_groups=column_groups(UNIT_COLUMNS),
            years=years,
            weights=weights,
            customised=customised,
            saved=saved,
            may_save=may(actor, Action.edit, Target(Kind.kpi_weights)),
            weight_prefix=WEIGHT_PREFIX,
            start=first,
            end=last,
            f={"chain": chain_id or ""},
            chains=chain_choices(state, actor, language(request)),
            error=error,
        )
