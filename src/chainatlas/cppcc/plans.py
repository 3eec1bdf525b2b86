"""The yearly consultation plan (年度协商计划): topics by kind (专题 / 对口 / 界别 / 双月协商),
each with the chain it is about, the month planned and who leads it; and how far the plan
has been carried out (the meetings held for each topic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.cppcc import fields
from chainatlas.cppcc.models import Consultation, ConsultationPlan, PlanTopic
from chainatlas.cppcc.vocabulary import CONSULTATION_KIND_NAMES, PLANNED_KINDS
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor, Kind, Target, require
from chainatlas.workflow.edits import audit, check_version, choice, flush, text

PLANNED_KIND_NAMES = {k.value: CONSULTATION_KIND_NAMES[k] for k in PLANNED_KINDS}
_TARGET = Target(Kind.consultation_plan)


@dataclass(frozen=True)
class TopicIn:
    kind: str
    topic: str
    chain_id: str | None = None
    planned_month: int | None = None
    lead: str = ""
    note: str = ""


@dataclass(frozen=True)
class TopicProgress:
    topic: PlanTopic
    meetings: list[Consultation]

    @property
    def held(self) -> bool:
        return bool(self.meetings)


def _month(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= int(value) <= 12:
        raise UserError(f"计划月份 {value} 无效：应为 1–12", f"invalid month {value}: 1–12")
    return int(value)


def _topic_row(item: TopicIn, chains: Mapping[str, Chain] | None) -> dict[str, Any]:
    return {
        "kind": choice(item.kind, PLANNED_KIND_NAMES, "协商类型", "consultation kind"),
        "topic": text(item.topic, 200, "协商议题", "topic", required=True),
        "chain_id": fields.chain_id(item.chain_id, chains),
        "planned_month": _month(item.planned_month),
        "lead": text(item.lead, 200, "牵头单位", "lead", required=False),
        "note": text(item.note, 2000, "备注", "note", required=False),
    }


def get_plan(session: Session, plan_id: int, actor: Actor | None = None) -> ConsultationPlan:
    plan = session.get(ConsultationPlan, plan_id)
    if plan is None:
        raise UserError(
            f"没有编号为 {plan_id} 的协商计划", f"no consultation plan with id {plan_id}"
        )
    if actor is not None:
        require(actor, Action.view, _TARGET)
    return plan


def find_plan(session: Session, year: int, region_code: str = "") -> ConsultationPlan | None:
    return session.scalar(
        select(ConsultationPlan).where(
            ConsultationPlan.year == year, ConsultationPlan.region_code == region_code
        )
    )


def list_plans(session: Session, actor: Actor) -> list[ConsultationPlan]:
    require(actor, Action.view, _TARGET)
    query = select(ConsultationPlan).order_by(
        ConsultationPlan.year.desc(), ConsultationPlan.region_code
    )
    return list(session.scalars(query))


def create_plan(
    session: Session,
    actor: Actor,
    year: int,
    *,
    title: str = "",
    region_code: str = "",
    note: str = "",
    topics: Sequence[TopicIn] = (),
    chains: Mapping[str, Chain] | None = None,
) -> ConsultationPlan:
    require(actor, Action.create, _TARGET)
    plan_year = fields.year(year)
    region = fields.region_code(region_code)
    if find_plan(session, plan_year, region) is not None:
        raise UserError(
            f"{plan_year} 年度协商计划已存在", f"the {plan_year} consultation plan already exists"
        )
    plan = ConsultationPlan(
        year=plan_year,
        region_code=region,
        title=text(title, 200, "计划名称", "plan title", required=False)
        or f"{plan_year}年度协商计划",
        note=text(note, 4000, "备注", "note", required=False),
        created_by=actor.username,
        topics=[PlanTopic(position=i, **_topic_row(t, chains)) for i, t in enumerate(topics)],
    )
    session.add(plan)
    flush(session)
    audit(
        session,
        actor,
        "cppcc.plan.add",
        f"consultation_plan:{plan.id}",
        {"year": plan_year, "region": region, "topics": [t.topic for t in plan.topics]},
    )
    return plan


def _touch(session: Session, plan: ConsultationPlan) -> None:
    """Bump the plan's version when only its topics changed (see workflow.meetings)."""
    plan.updated_at = utcnow()
    flush(session, "该协商计划", "this plan")


def _editable(
    session: Session, actor: Actor, plan_id: int, expected_version: int | None
) -> ConsultationPlan:
    plan = get_plan(session, plan_id)
    require(actor, Action.edit, _TARGET)
    check_version(plan, expected_version, "该协商计划", "this plan")
    return plan


def update_plan(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    expected_version: int | None,
    title: str | None = None,
    note: str | None = None,
) -> ConsultationPlan:
    plan = _editable(session, actor, plan_id, expected_version)
    changed: dict[str, Any] = {}
    if title is not None:
        cleaned = text(title, 200, "计划名称", "plan title", required=True)
        if cleaned != plan.title:
            changed["title"] = plan.title = cleaned
    if note is not None:
        cleaned = text(note, 4000, "备注", "note", required=False)
        if cleaned != plan.note:
            changed["note"] = plan.note = cleaned
    if changed:
        _touch(session, plan)
        audit(session, actor, "cppcc.plan.edit", f"consultation_plan:{plan.id}", changed)
    return plan


def add_plan_topic(
    session: Session,
    actor: Actor,
    plan_id: int,
    item: TopicIn,
    *,
    expected_version: int | None,
    chains: Mapping[str, Chain] | None = None,
) -> PlanTopic:
    plan = _editable(session, actor, plan_id, expected_version)
    topic = PlanTopic(position=len(plan.topics), **_topic_row(item, chains))
    plan.topics.append(topic)
    _touch(session, plan)
    audit(
        session,
        actor,
        "cppcc.plan.topic_add",
        f"consultation_plan:{plan.id}",
        {"kind": topic.kind, "topic": topic.topic, "chain": topic.chain_id},
    )
    return topic


def _topic(session: Session, topic_id: int) -> PlanTopic:
    topic = session.get(PlanTopic, topic_id)
    if topic is None:
        raise UserError(f"没有编号为 {topic_id} 的计划议题", f"no plan topic with id {topic_id}")
    return topic


def update_plan_topic(
    session: Session,
    actor: Actor,
    topic_id: int,
    item: TopicIn,
    *,
    expected_version: int | None,
    chains: Mapping[str, Chain] | None = None,
) -> PlanTopic:
    """Replace what the topic says; `expected_version` is the plan's."""
    topic = _topic(session, topic_id)
    plan = _editable(session, actor, topic.plan_id, expected_version)
    row = _topic_row(item, chains)
    changed = {k: v for k, v in row.items() if getattr(topic, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(topic, key, value)
        _touch(session, plan)
        audit(
            session,
            actor,
            "cppcc.plan.topic_edit",
            f"consultation_plan:{plan.id}",
            {"topic_id": topic.id, **changed},
        )
    return topic


def remove_plan_topic(
    session: Session, actor: Actor, topic_id: int, *, expected_version: int | None
) -> None:
    """Drop a topic from the plan; meetings held for it keep their record (link cleared)."""
    topic = _topic(session, topic_id)
    plan = _editable(session, actor, topic.plan_id, expected_version)
    plan.topics.remove(topic)
    for position, other in enumerate(plan.topics):
        other.position = position
    _touch(session, plan)
    audit(
        session,
        actor,
        "cppcc.plan.topic_remove",
        f"consultation_plan:{plan.id}",
        {"topic_id": topic_id, "topic": topic.topic},
    )


def plan_progress(session: Session, actor: Actor, plan_id: int) -> list[TopicProgress]:
    """Each topic of the plan with the meetings held for it (earliest first)."""
    plan = get_plan(session, plan_id, actor)
    ids = [t.id for t in plan.topics]
    held: dict[int, list[Consultation]] = {i: [] for i in ids}
    if ids:
        query = (
            select(Consultation)
            .where(Consultation.plan_topic_id.in_(ids))
            .order_by(Consultation.held_on, Consultation.id)
        )
        for meeting in session.scalars(query):
            assert meeting.plan_topic_id is not None
            held[meeting.plan_topic_id].append(meeting)
    return [TopicProgress(t, held[t.id]) for t in plan.topics]
