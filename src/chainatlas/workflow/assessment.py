"""KPIs and the assessment ranking from the app database: loads the projects and cases the
actor may see into the frames `kpis` computes on, per chain or per member unit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.workflow.access import Actor, Kind
from chainatlas.workflow.edits import local_day
from chainatlas.workflow.kpis import (
    CASE_SCHEMA,
    DEFAULT_WEIGHTS,
    PROJECT_SCHEMA,
    kpi_table,
    weighted_scores,
)
from chainatlas.workflow.models import Case, ChainRole, ChainUnit, Project, Unit
from chainatlas.workflow.visibility import visible


def kpi_inputs(
    session: Session, actor: Actor, *, chain_ids: Collection[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(projects, cases) frames in the layout `kpis` reads."""
    projects = select(
        Project.id,
        Project.chain_id,
        Project.unit_id,
        Project.stage,
        Project.amount_wan,
        Project.signed_on,
        Project.started_on,
        Project.production_on,
    ).where(visible(actor, Kind.project, Project.chain_id, Project.unit_id))
    cases = select(
        Case.id,
        Case.chain_id,
        Case.unit_id,
        Case.state,
        Case.raised_on,
        Case.deadline,
        Case.resolved_at,
    ).where(visible(actor, Kind.case, Case.chain_id, Case.unit_id))
    if chain_ids is not None:
        projects = projects.where(Project.chain_id.in_(sorted(chain_ids)))
        cases = cases.where(Case.chain_id.in_(sorted(chain_ids)))
    project_rows = [tuple(r) for r in session.execute(projects)]
    case_rows = [
        (*r[:6], None if r[6] is None else local_day(r[6])) for r in session.execute(cases)
    ]
    return (
        pl.DataFrame(project_rows, schema=PROJECT_SCHEMA, orient="row"),
        pl.DataFrame(case_rows, schema=CASE_SCHEMA, orient="row"),
    )


def chain_ranking(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    weights: Mapping[str, float] | None = None,
    chain_ids: Collection[str] | None = None,
    extra: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """KPIs, score and rank per chain. `extra`: more columns per `chain_id` (e.g. the
    completeness change from the diagnoses) that weights may name."""
    projects, cases = kpi_inputs(session, actor, chain_ids=chain_ids)
    table = kpi_table(projects, cases, by="chain_id", start=start, end=end, keys=chain_ids)
    if extra is not None:
        table = table.join(extra, on="chain_id", how="left")
    return weighted_scores(table, weights or DEFAULT_WEIGHTS, key="chain_id")


def unit_ranking(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    weights: Mapping[str, float] | None = None,
    chain_id: str | None = None,
) -> pl.DataFrame:
    """KPIs, score and rank per member unit (its responsible projects, its assigned cases),
    with the unit's name; every member unit of the chain (or of all chains) is listed."""
    chains = None if chain_id is None else [chain_id]
    projects, cases = kpi_inputs(session, actor, chain_ids=chains)
    members = select(Unit.id, Unit.name).join(ChainUnit, ChainUnit.unit_id == Unit.id)
    members = members.where(ChainUnit.role == ChainRole.member_unit.value)
    if chain_id is not None:
        members = members.where(ChainUnit.chain_id == chain_id)
    names: dict[int, str] = {r[0]: r[1] for r in session.execute(members.distinct())}
    table = kpi_table(projects, cases, by="unit_id", start=start, end=end, keys=sorted(names))
    known: dict[int, str] = {r[0]: r[1] for r in session.execute(select(Unit.id, Unit.name))}
    table = table.with_columns(
        unit_name=pl.col("unit_id").replace_strict(known, default=None, return_dtype=pl.String)
    )
    return weighted_scores(table, weights or DEFAULT_WEIGHTS, key="unit_id")
