"""Consultation meetings (协商会议): kind, date, topic, region, the chains discussed, the
leaders present, the parties and sectors that took part (and spoke), attendance of members,
and the workflow cases a meeting raised. A meeting can be made from a document-intake draft
(`meeting_from_draft`): a person confirms what was read from the report and saves it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.cppcc import fields
from chainatlas.cppcc.groups import check_group
from chainatlas.cppcc.intake_model import MeetingDraft
from chainatlas.cppcc.members import get_member
from chainatlas.cppcc.models import (
    AttendanceRecord,
    Consultation,
    ConsultationCase,
    ConsultationChain,
    ConsultationGroup,
    ConsultationLeader,
    PlanTopic,
)
from chainatlas.cppcc.permissions import require_any, targets, visible
from chainatlas.cppcc.vocabulary import ATTENDANCE_NAMES, CONSULTATION_KIND_NAMES
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, Target
from chainatlas.workflow.edits import audit, check_version, choice, flush, text
from chainatlas.workflow.models import Case, CaseSource

LEADER_ROLES: dict[str, tuple[str, str]] = {
    "chair": ("主持", "chair"),
    "speech": ("讲话", "speech"),
    "present": ("出席", "present"),
}


@dataclass(frozen=True)
class LeaderIn:
    name: str
    title: str = ""
    roles: Sequence[str] = ("present",)


@dataclass(frozen=True)
class GroupIn:
    """A party, federation or sector taking part (id or name from `groups.GROUPS`)."""

    group: str
    spoke: bool = False
    speakers: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class AttendanceIn:
    status: str
    note: str = ""


def _target_list(meeting: Consultation) -> list[Target]:
    return targets(Kind.consultation, chain_ids=meeting.chain_ids)


def get_consultation(
    session: Session, consultation_id: int, actor: Actor | None = None
) -> Consultation:
    meeting = session.get(Consultation, consultation_id)
    if meeting is None:
        raise UserError(
            f"没有编号为 {consultation_id} 的协商会议", f"no consultation with id {consultation_id}"
        )
    if actor is not None:
        require_any(actor, Action.view, _target_list(meeting))
    return meeting


def _kind(value: str) -> str:
    return choice(value, CONSULTATION_KIND_NAMES, "协商类型", "consultation kind")


def _groups(items: Sequence[GroupIn | str]) -> list[ConsultationGroup]:
    rows: list[ConsultationGroup] = []
    seen: set[str] = set()
    for item in items:
        entry = GroupIn(item) if isinstance(item, str) else item
        group_id = check_group(entry.group, "参加的党派或界别", "participating party or sector")
        if group_id is None or group_id in seen:
            continue
        seen.add(group_id)
        speakers = "、".join(s.strip() for s in entry.speakers if s.strip())
        rows.append(
            ConsultationGroup(
                group_id=group_id,
                position=len(rows),
                spoke=bool(entry.spoke or speakers),
                speakers=text(speakers, 400, "发言人", "speakers", required=False),
            )
        )
    return rows


def _leaders(items: Sequence[LeaderIn | str]) -> list[ConsultationLeader]:
    rows = []
    for position, item in enumerate(items):
        entry = LeaderIn(item) if isinstance(item, str) else item
        roles = [choice(r, LEADER_ROLES, "领导职责", "leader role") for r in entry.roles]
        rows.append(
            ConsultationLeader(
                position=position,
                name=text(entry.name, 64, "领导姓名", "leader name", required=True),
                title=text(entry.title, 128, "职务", "title", required=False),
                roles=",".join(dict.fromkeys(roles)),
            )
        )
    return rows


def _chains(values: Sequence[str], chains: Mapping[str, Chain] | None) -> list[ConsultationChain]:
    return [ConsultationChain(chain_id=c) for c in fields.chain_ids(values, chains)]


class Keep(Enum):
    """An argument left out: the value stays (where None has a meaning of its own)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _plan_topic(session: Session, plan_topic_id: int | None) -> int | None:
    if plan_topic_id is None:
        return None
    if session.get(PlanTopic, plan_topic_id) is None:
        raise UserError(
            f"没有编号为 {plan_topic_id} 的计划议题", f"no plan topic with id {plan_topic_id}"
        )
    return plan_topic_id


def create_consultation(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    held_on: date,
    topic: str,
    title: str = "",
    region_code: str = "",
    place: str = "",
    chain_ids: Sequence[str] = (),
    groups: Sequence[GroupIn | str] = (),
    leaders: Sequence[LeaderIn | str] = (),
    plan_topic_id: int | None = None,
    summary: str = "",
    report_text: str = "",
    chains: Mapping[str, Chain] | None = None,
) -> Consultation:
    meeting = Consultation(
        kind=_kind(kind),
        held_on=held_on,
        topic=text(topic, 200, "协商议题", "topic", required=True),
        title=text(title, 200, "会议名称", "meeting title", required=False),
        region_code=fields.region_code(region_code),
        place=text(place, 200, "会议地点", "place", required=False),
        plan_topic_id=_plan_topic(session, plan_topic_id),
        summary=text(summary, 20000, "会议纪要", "summary", required=False),
        report_text=text(report_text, 200000, "报道原文", "report text", required=False),
        created_by=actor.username,
        chains=_chains(chain_ids, chains),
        groups=_groups(groups),
        leaders=_leaders(leaders),
    )
    require_any(actor, Action.create, _target_list(meeting))
    session.add(meeting)
    flush(session)
    audit(
        session,
        actor,
        "cppcc.consultation.add",
        f"consultation:{meeting.id}",
        {
            "kind": meeting.kind,
            "held_on": held_on.isoformat(),
            "topic": meeting.topic,
            "chains": meeting.chain_ids,
            "groups": [g.group_id for g in meeting.groups],
        },
    )
    return meeting


def _touch(session: Session, meeting: Consultation) -> None:
    """Bump the meeting's version when only its children changed (see workflow.meetings)."""
    meeting.updated_at = utcnow()
    flush(session, "该协商会议", "this consultation")


def _editable(
    session: Session, actor: Actor, consultation_id: int, expected_version: int | None
) -> Consultation:
    meeting = get_consultation(session, consultation_id)
    require_any(actor, Action.edit, _target_list(meeting))
    check_version(meeting, expected_version, "该协商会议", "this consultation")
    return meeting


_TEXTS: dict[str, tuple[int, str, str, bool]] = {
    "topic": (200, "协商议题", "topic", True),
    "title": (200, "会议名称", "meeting title", False),
    "place": (200, "会议地点", "place", False),
    "summary": (20000, "会议纪要", "summary", False),
}


def update_consultation(
    session: Session,
    actor: Actor,
    consultation_id: int,
    *,
    expected_version: int | None,
    kind: str | None = None,
    held_on: date | None = None,
    topic: str | None = None,
    title: str | None = None,
    region_code: str | None = None,
    place: str | None = None,
    summary: str | None = None,
    chain_ids: Sequence[str] | None = None,
    groups: Sequence[GroupIn | str] | None = None,
    leaders: Sequence[LeaderIn | str] | None = None,
    chains: Mapping[str, Chain] | None = None,
    plan_topic_id: int | Keep | None = KEEP,
) -> Consultation:
    """Edit the meeting; lists given replace the meeting's chains, groups or leaders;
    `plan_topic_id` links it to another topic of a plan (None: to none)."""
    meeting = _editable(session, actor, consultation_id, expected_version)
    changed: dict[str, Any] = {}
    if not isinstance(plan_topic_id, Keep) and plan_topic_id != meeting.plan_topic_id:
        changed["plan_topic_id"] = _plan_topic(session, plan_topic_id)
    given = {"topic": topic, "title": title, "place": place, "summary": summary}
    for key, value in given.items():
        if value is not None:
            limit, zh, en, required = _TEXTS[key]
            cleaned = text(value, limit, zh, en, required=required)
            if cleaned != getattr(meeting, key):
                changed[key] = cleaned
    if kind is not None and _kind(kind) != meeting.kind:
        changed["kind"] = _kind(kind)
    if held_on is not None and held_on != meeting.held_on:
        changed["held_on"] = held_on
    if region_code is not None and fields.region_code(region_code) != meeting.region_code:
        changed["region_code"] = fields.region_code(region_code)
    new_chains = None if chain_ids is None else _chains(chain_ids, chains)
    new_groups = None if groups is None else _groups(groups)
    new_leaders = None if leaders is None else _leaders(leaders)
    if new_chains is not None and [c.chain_id for c in new_chains] != meeting.chain_ids:
        # a chain-scoped editor may not move a meeting onto chains it does not work on
        require_any(
            actor,
            Action.edit,
            targets(Kind.consultation, chain_ids=[c.chain_id for c in new_chains]),
        )
        meeting.chains = new_chains
        changed["chains"] = meeting.chain_ids
    if new_groups is not None:
        meeting.groups = new_groups
        changed["groups"] = [g.group_id for g in new_groups]
    if new_leaders is not None:
        meeting.leaders = new_leaders
        changed["leaders"] = [x.name for x in new_leaders]
    for key, value in changed.items():
        if key not in ("chains", "groups", "leaders"):
            setattr(meeting, key, value)
    if changed:
        _touch(session, meeting)
        audit(session, actor, "cppcc.consultation.edit", f"consultation:{meeting.id}", changed)
    return meeting


def record_attendance(
    session: Session,
    actor: Actor,
    consultation_id: int,
    attendance: Mapping[int, AttendanceIn | str | None],
    *,
    expected_version: int | None,
) -> Consultation:
    """Set the attendance of the members given (member id → present / absent / excused, or
    None to drop the entry); other members' entries stay."""
    meeting = _editable(session, actor, consultation_id, expected_version)
    rows = {r.member_id: r for r in meeting.attendance}
    changed: dict[int, str | None] = {}
    for member_id, given in attendance.items():
        member = get_member(session, member_id)
        if given is None:
            if member.id in rows:
                meeting.attendance.remove(rows.pop(member.id))
                changed[member.id] = None
            continue
        entry = AttendanceIn(given) if isinstance(given, str) else given
        status = choice(
            entry.status,
            ATTENDANCE_NAMES,
            f"{member.name}的出席情况",
            f"attendance of {member.name}",
        )
        note = text(entry.note, 200, "出席说明", "attendance note", required=False)
        row = rows.get(member.id)
        if row is None:
            row = AttendanceRecord(member_id=member.id, status=status, note=note)
            meeting.attendance.append(row)
            rows[member.id] = row
        elif (row.status, row.note) == (status, note):
            continue
        row.status, row.note = status, note
        changed[member.id] = status
    if changed:
        _touch(session, meeting)
        audit(
            session,
            actor,
            "cppcc.consultation.attendance",
            f"consultation:{meeting.id}",
            {str(k): v for k, v in changed.items()},
        )
    return meeting


def attendance_counts(meeting: Consultation) -> dict[str, int]:
    counts = dict.fromkeys(ATTENDANCE_NAMES, 0)
    for row in meeting.attendance:
        counts[row.status] += 1
    return counts


def _draft_kind(draft: MeetingDraft) -> str | None:
    if draft.kind.kind != "consultation":
        return None
    return draft.kind.consultation_kind or "other"


def meeting_from_draft(
    session: Session,
    actor: Actor,
    draft: MeetingDraft,
    *,
    kind: str | None = None,
    held_on: date | None = None,
    topic: str | None = None,
    title: str | None = None,
    region_code: str | None = None,
    chain_ids: Sequence[str] | None = None,
    place: str = "",
    plan_topic_id: int | None = None,
    keep_report: bool = True,
    chains: Mapping[str, Chain] | None = None,
) -> Consultation:
    """Save a document-intake draft (`cppcc.intake.extract_meeting`) as a consultation: its
    date, region, kind and sub-kind, topic, leaders, parties and sectors (with who spoke)
    and chains; each keyword overrides what the draft says, as the person confirmed it."""
    chosen_kind = kind or _draft_kind(draft)
    if chosen_kind is None:
        raise UserError(
            "草稿未识别为协商会议（识别为"
            f"{'调度会' if draft.kind.kind == 'review_meeting' else '其他会议'}）；请选择协商类型",
            f"the draft was not read as a consultation (it reads as {draft.kind.kind}); "
            "choose the consultation kind",
        )
    day = held_on or (draft.date.value if draft.date else None)
    if day is None:
        raise UserError(
            "草稿中没有完整的会议日期，请填写会议日期",
            "the draft has no complete meeting date; enter the date",
        )
    draft_topic = draft.topic.text if draft.topic else (draft.meeting_name or draft.title or "")
    draft_region = draft.region.region_code if draft.region else ""
    return create_consultation(
        session,
        actor,
        kind=chosen_kind,
        held_on=day,
        topic=topic if topic is not None else draft_topic,
        title=title if title is not None else (draft.meeting_name or ""),
        region_code=region_code if region_code is not None else draft_region,
        place=place,
        chain_ids=chain_ids if chain_ids is not None else [c.chain_id for c in draft.chains],
        groups=[GroupIn(p.id, p.spoke, tuple(p.speakers)) for p in draft.participants],
        leaders=[LeaderIn(x.name, x.title, tuple(x.roles)) for x in draft.leaders],
        plan_topic_id=plan_topic_id,
        report_text=draft.text if keep_report else "",
        chains=chains,
    )


def _chain_filter(ids: list[str]) -> Any:
    return Consultation.id.in_(
        select(ConsultationChain.consultation_id).where(ConsultationChain.chain_id.in_(ids))
    )


def list_consultations(
    session: Session,
    actor: Actor,
    *,
    year: int | None = None,
    kind: str | None = None,
    chain_id: str | None = None,
) -> list[Consultation]:
    """The meetings the actor may see, newest first."""
    query = select(Consultation).where(visible(actor, Kind.consultation, chain=_chain_filter))
    if year is not None:
        query = query.where(Consultation.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    if kind is not None:
        query = query.where(Consultation.kind == kind)
    if chain_id is not None:
        query = query.where(_chain_filter([chain_id]))
    return list(
        session.scalars(query.order_by(Consultation.held_on.desc(), Consultation.id.desc()))
    )


def previous_consultation(session: Session, meeting: Consultation) -> Consultation | None:
    """The meeting before this one of the same kind in the same region — on one of its
    chains when it has chains ("上一次" in the handling report)."""
    query = select(Consultation).where(
        Consultation.kind == meeting.kind,
        Consultation.region_code == meeting.region_code,
        Consultation.id != meeting.id,
        or_(
            Consultation.held_on < meeting.held_on,
            and_(Consultation.held_on == meeting.held_on, Consultation.id < meeting.id),
        ),
    )
    if meeting.chain_ids:
        query = query.where(_chain_filter(meeting.chain_ids))
    query = query.order_by(Consultation.held_on.desc(), Consultation.id.desc()).limit(1)
    return session.scalar(query)


def link_case(
    session: Session,
    actor: Actor,
    consultation_id: int,
    case_id: int,
    *,
    expected_version: int | None,
) -> Consultation:
    """Record that a workflow case (an enterprise difficulty) came out of this meeting."""
    meeting = _editable(session, actor, consultation_id, expected_version)
    case = case_service.get_case(session, case_id, actor)
    if case.id not in {c.case_id for c in meeting.cases}:
        meeting.cases.append(ConsultationCase(case_id=case.id))
        _touch(session, meeting)
        audit(
            session,
            actor,
            "cppcc.consultation.case",
            f"consultation:{meeting.id}",
            {"case": case.id, "title": case.title},
        )
    return meeting


def raise_case(
    session: Session,
    actor: Actor,
    consultation_id: int,
    *,
    title: str,
    category: str,
    chain_id: str,
    enterprise_name: str = "",
    enterprise_uscc: str | None = None,
    description: str = "",
    unit_id: int | None = None,
    deadline: date | None = None,
    chains: Mapping[str, Chain] | None = None,
) -> Case:
    """A difficulty named at the meeting becomes a workflow case (source `meeting`, raised on
    the meeting's day), linked to the meeting; the chain-chief rules decide who may."""
    meeting = _editable(session, actor, consultation_id, None)
    case = case_service.add_case(
        session,
        actor,
        title=title,
        source=CaseSource.meeting.value,
        category=category,
        chain_id=chain_id,
        enterprise_name=enterprise_name,
        enterprise_uscc=enterprise_uscc,
        description=description,
        raised_on=meeting.held_on,
        unit_id=unit_id,
        deadline=deadline,
        note=f"政协协商会议提出（{meeting.held_on.isoformat()} {meeting.topic}）",
        chains=chains,
    )
    link_case(session, actor, meeting.id, case.id, expected_version=None)
    return case
