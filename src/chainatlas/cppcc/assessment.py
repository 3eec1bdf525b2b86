"""Yearly CPPCC statistics and member duty scores from the app database: loads the records
the actor may see into the frames `statistics` and `scoring` compute on, and keeps the
scoring rules of each year (`cppcc_duty_scoring`; the defaults until someone sets them)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.cppcc import fields
from chainatlas.cppcc.models import (
    AttendanceRecord,
    Consultation,
    ConsultationCase,
    ConsultationChain,
    DutyRecord,
    DutyRecordChain,
    DutyScoring,
    Member,
)
from chainatlas.cppcc.permissions import visible
from chainatlas.cppcc.scoring import (
    DEFAULT_RULES,
    SCORE_ITEM_SCHEMA,
    ScoringRules,
    check_rules,
    duty_scores,
)
from chainatlas.cppcc.statistics import (
    ATTENDANCE_SCHEMA,
    CASE_SCHEMA,
    CONSULTATION_CASE_SCHEMA,
    CONSULTATION_SCHEMA,
    DUTY_SCHEMA,
    member_statistics,
    system_statistics,
)
from chainatlas.workflow.access import Action, Actor, Kind, Target, require
from chainatlas.workflow.edits import EditConflict, audit, flush, local_day
from chainatlas.workflow.models import Case


@dataclass(frozen=True)
class StatisticsInputs:
    consultations: pl.DataFrame
    attendance: pl.DataFrame
    duties: pl.DataFrame
    consultation_cases: pl.DataFrame
    cases: pl.DataFrame


@dataclass(frozen=True)
class YearlyReport:
    year: int
    system: dict[str, int]
    members: pl.DataFrame  # member_statistics with member_name and group_id


def statistics_inputs(session: Session, actor: Actor) -> StatisticsInputs:
    """The frames `statistics` reads, from the meetings and duty records the actor may see
    (and the cases linked to them)."""
    meeting_ok = visible(
        actor,
        Kind.consultation,
        chain=lambda ids: Consultation.id.in_(
            select(ConsultationChain.consultation_id).where(ConsultationChain.chain_id.in_(ids))
        ),
    )
    duty_ok = visible(
        actor,
        Kind.duty_record,
        chain=lambda ids: DutyRecord.id.in_(
            select(DutyRecordChain.duty_record_id).where(DutyRecordChain.chain_id.in_(ids))
        ),
        owner=lambda uid: DutyRecord.member_id.in_(select(Member.id).where(Member.user_id == uid)),
    )
    meetings = [
        tuple(r)
        for r in session.execute(
            select(Consultation.id, Consultation.kind, Consultation.held_on).where(meeting_ok)
        )
    ]
    meeting_ids = [m[0] for m in meetings]
    attendance = [
        tuple(r)
        for r in session.execute(
            select(
                AttendanceRecord.consultation_id,
                AttendanceRecord.member_id,
                AttendanceRecord.status,
            ).where(AttendanceRecord.consultation_id.in_(meeting_ids))
        )
    ]
    meeting_cases = [
        tuple(r)
        for r in session.execute(
            select(ConsultationCase.consultation_id, ConsultationCase.case_id).where(
                ConsultationCase.consultation_id.in_(meeting_ids)
            )
        )
    ]
    duties = [
        tuple(r)
        for r in session.execute(
            select(
                DutyRecord.id,
                DutyRecord.member_id,
                DutyRecord.kind,
                DutyRecord.done_on,
                DutyRecord.case_id,
            ).where(duty_ok)
        )
    ]
    case_ids = sorted({d[4] for d in duties if d[4] is not None} | {c[1] for c in meeting_cases})
    cases = [
        (r[0], r[1], r[2], None if r[3] is None else local_day(r[3]))
        for r in session.execute(
            select(Case.id, Case.state, Case.raised_on, Case.resolved_at).where(
                Case.id.in_(case_ids)
            )
        )
    ]
    return StatisticsInputs(
        pl.DataFrame(meetings, schema=CONSULTATION_SCHEMA, orient="row"),
        pl.DataFrame(attendance, schema=ATTENDANCE_SCHEMA, orient="row"),
        pl.DataFrame(duties, schema=DUTY_SCHEMA, orient="row"),
        pl.DataFrame(meeting_cases, schema=CONSULTATION_CASE_SCHEMA, orient="row"),
        pl.DataFrame(cases, schema=CASE_SCHEMA, orient="row"),
    )


def _members(session: Session) -> pl.DataFrame:
    rows = session.execute(select(Member.id, Member.name, Member.group_id, Member.active))
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "member_id": pl.Int64(),
            "member_name": pl.String(),
            "group_id": pl.String(),
            "active": pl.Boolean(),
        },
        orient="row",
    )


def yearly_report(session: Session, actor: Actor, year: int) -> YearlyReport:
    """The year's figures for the whole system and for every active member (and any other
    member with records that year)."""
    year = fields.year(year)
    inputs = statistics_inputs(session, actor)
    system = system_statistics(
        inputs.consultations, inputs.duties, inputs.consultation_cases, inputs.cases, year=year
    )
    roster = _members(session)
    active = roster.filter(pl.col("active"))["member_id"].to_list()
    per_member = member_statistics(
        inputs.consultations,
        inputs.attendance,
        inputs.duties,
        inputs.cases,
        year=year,
        members=active,
    )
    named = per_member.join(roster.drop("active"), on="member_id", how="left")
    return YearlyReport(year, system, named)


def scoring_rules(session: Session, year: int) -> tuple[ScoringRules, int]:
    """The year's rules and the version to edit them from (0: the defaults, never set)."""
    stored = session.get(DutyScoring, year)
    if stored is None:
        return DEFAULT_RULES, 0
    return ScoringRules.from_json(stored.rules), stored.version


def set_scoring_rules(
    session: Session,
    actor: Actor,
    year: int,
    items: dict[str, tuple[object, object]],
    total_cap: object = None,
    *,
    expected_version: int | None,
) -> ScoringRules:
    """Set the year's rules (item kind → (points, cap)). `expected_version` is what
    `scoring_rules` returned (0: the defaults; None: no check, e.g. from the CLI)."""
    require(actor, Action.edit, Target(Kind.duty_scoring))
    year = fields.year(year)
    rules = check_rules(items, total_cap)
    stored = session.get(DutyScoring, year)
    if stored is None:
        if expected_version not in (None, 0):
            raise EditConflict("计分规则", "the scoring rules")
        stored = DutyScoring(year=year, rules=rules.to_json(), updated_by=actor.username)
        session.add(stored)
    else:
        if expected_version is not None and expected_version != stored.version:
            raise EditConflict("计分规则", "the scoring rules")
        stored.rules = rules.to_json()
        stored.updated_by = actor.username
    flush(session, "计分规则", "the scoring rules")
    audit(session, actor, "cppcc.scoring.set", f"duty_scoring:{year}", {"rules": rules.to_json()})
    return rules


def score_items(session: Session, actor: Actor) -> pl.DataFrame:
    """Duty records and attendance as scored items (SCORE_ITEM_SCHEMA)."""
    inputs = statistics_inputs(session, actor)
    duties = inputs.duties.select("member_id", item=pl.col("kind"), on=pl.col("done_on"))
    marks = {"present": "attended", "absent": "absent"}
    attendance = (
        inputs.attendance.join(inputs.consultations, on="consultation_id")
        .filter(pl.col("status").is_in(list(marks)))
        .select(
            "member_id",
            item=pl.col("status").replace_strict(marks, return_dtype=pl.String),
            on=pl.col("held_on"),
        )
    )
    return pl.concat([duties, attendance]).cast(SCORE_ITEM_SCHEMA)  # type: ignore[arg-type]


def member_scores(
    session: Session, actor: Actor, year: int, rules: ScoringRules | None = None
) -> pl.DataFrame:
    """Every active member's duty score for the year under the year's rules (or `rules`),
    with names, best first."""
    year = fields.year(year)
    chosen = rules if rules is not None else scoring_rules(session, year)[0]
    roster = _members(session)
    active = roster.filter(pl.col("active"))["member_id"].to_list()
    scores = duty_scores(score_items(session, actor), chosen, year=year, members=active)
    return scores.join(roster.drop("active"), on="member_id", how="left").sort(
        ["rank", "member_id"]
    )
