"""Review meetings (调度会): a chain's periodic meeting. Its agenda is built from the chain's
overdue and open cases and its stalled projects (no stage change for `stalled_days` days);
its decisions become action items — cases with an owner unit and a deadline, linked to the
meeting — or reassign a case already on the table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, Target, require
from chainatlas.workflow.edits import audit, check_version, flush, local_today, text
from chainatlas.workflow.models import (
    CLOSED_STATES,
    AgendaItem,
    AgendaReason,
    Case,
    CaseCategory,
    CaseSource,
    Decision,
    MeetingAttendee,
    Project,
    ReviewMeeting,
)
from chainatlas.workflow.organisation import get_unit
from chainatlas.workflow.projects import stage_name, stalled_projects
from chainatlas.workflow.visibility import visible

DEFAULT_STALLED_DAYS = 30
REASON_NAMES: dict[str, tuple[str, str]] = {
    AgendaReason.overdue: ("逾期诉求", "overdue case"),
    AgendaReason.open: ("在办诉求", "open case"),
    AgendaReason.stalled: ("停滞项目", "stalled project"),
}


@dataclass(frozen=True)
class AttendeeIn:
    name: str
    title: str = ""
    unit_id: int | None = None


@dataclass(frozen=True)
class AgendaEntry:
    reason: AgendaReason
    summary_zh: str
    summary_en: str
    case: Case | None = None
    project: Project | None = None


def _unit_names(case_or_project: Case | Project) -> tuple[str, str]:
    unit = case_or_project.unit
    return (unit.name, unit.name) if unit is not None else ("未指定", "none")


def _case_entry(case: Case, today: date) -> AgendaEntry:
    overdue = case_service.is_overdue(case, today)
    unit_zh, unit_en = _unit_names(case)
    who = f"（{case.enterprise_name}）" if case.enterprise_name else ""
    who_en = f" ({case.enterprise_name})" if case.enterprise_name else ""
    deadline = case.deadline.isoformat() if case.deadline else "—"
    if overdue and case.deadline is not None:
        days = (today - case.deadline).days
        head_zh, head_en = f"【逾期 {days} 天】", f"[{days} days overdue] "
    else:
        head_zh, head_en = "", ""
    return AgendaEntry(
        AgendaReason.overdue if overdue else AgendaReason.open,
        f"{head_zh}{case.title}{who}；责任单位：{unit_zh}；期限：{deadline}；"
        f"状态：{case_service.state_name(case.state)}",
        f"{head_en}{case.title}{who_en}; unit: {unit_en}; deadline: {deadline}; "
        f"state: {case_service.state_name(case.state, 'en')}",
        case=case,
    )


def _project_entry(project: Project, days: int) -> AgendaEntry:
    unit_zh, unit_en = _unit_names(project)
    amount = "—" if project.amount_wan is None else f"{project.amount_wan:,.0f}"
    return AgendaEntry(
        AgendaReason.stalled,
        f"【停滞 {days} 天】{project.name}（{project.investor_name}）；阶段：{stage_name(project.stage)}；"
        f"责任单位：{unit_zh}；投资额：{amount} 万元",
        f"[stalled {days} days] {project.name} ({project.investor_name}); stage: "
        f"{stage_name(project.stage, 'en')}; unit: {unit_en}; amount: {amount} (10k CNY)",
        project=project,
    )


def build_agenda(
    session: Session, chain_id: str, *, today: date, stalled_days: int = DEFAULT_STALLED_DAYS
) -> list[AgendaEntry]:
    """Overdue cases (longest overdue first), then the other open cases (nearest deadline
    first), then stalled projects (longest stalled first)."""
    open_cases = session.scalars(
        select(Case)
        .where(Case.chain_id == chain_id, Case.state.not_in(sorted(CLOSED_STATES)))
        .order_by(Case.deadline.asc().nulls_last(), Case.id)
    ).all()
    entries = [_case_entry(c, today) for c in open_cases]
    overdue = [e for e in entries if e.reason is AgendaReason.overdue]
    pending = [e for e in entries if e.reason is AgendaReason.open]
    stalled = [
        _project_entry(s.project, s.days)
        for s in stalled_projects(session, chain_id, today=today, days=stalled_days)
    ]
    return [*overdue, *pending, *stalled]


def get_meeting(session: Session, meeting_id: int, actor: Actor | None = None) -> ReviewMeeting:
    """The meeting; with `actor`, only if the actor may see it (NotAllowed otherwise)."""
    meeting = session.get(ReviewMeeting, meeting_id)
    if meeting is None:
        raise UserError(
            f"没有编号为 {meeting_id} 的调度会", f"no review meeting with id {meeting_id}"
        )
    if actor is not None:
        require(actor, Action.view, _target(meeting))
    return meeting


def _target(meeting: ReviewMeeting) -> Target:
    return Target(Kind.review_meeting, chain_id=meeting.chain_id)


def _attendees(session: Session, attendees: Sequence[AttendeeIn | str]) -> list[MeetingAttendee]:
    rows = []
    for position, attendee in enumerate(attendees):
        item = AttendeeIn(attendee) if isinstance(attendee, str) else attendee
        unit_id = None if item.unit_id is None else get_unit(session, item.unit_id).id
        rows.append(
            MeetingAttendee(
                position=position,
                name=text(item.name, 64, "参会人员姓名", "attendee name", required=True),
                title=text(item.title, 128, "职务", "title", required=False),
                unit_id=unit_id,
            )
        )
    return rows


def _set_agenda(session: Session, meeting: ReviewMeeting, today: date, stalled_days: int) -> None:
    entries = build_agenda(session, meeting.chain_id, today=today, stalled_days=stalled_days)
    meeting.agenda = [
        AgendaItem(
            position=i,
            reason=e.reason.value,
            case_id=e.case.id if e.case else None,
            project_id=e.project.id if e.project else None,
            summary_zh=e.summary_zh,
            summary_en=e.summary_en,
        )
        for i, e in enumerate(entries)
    ]
    meeting.agenda_day = today
    meeting.stalled_days = stalled_days


def create_meeting(
    session: Session,
    actor: Actor,
    *,
    chain_id: str,
    held_on: date,
    title: str = "",
    place: str = "",
    chair: str = "",
    attendees: Sequence[AttendeeIn | str] = (),
    stalled_days: int = DEFAULT_STALLED_DAYS,
    today: date | None = None,
) -> ReviewMeeting:
    """A meeting with its agenda built as of `today` (default: the China calendar day)."""
    chain = text(chain_id, 64, "产业链", "chain", required=True)
    require(actor, Action.create, Target(Kind.review_meeting, chain_id=chain))
    meeting = ReviewMeeting(
        chain_id=chain,
        held_on=held_on,
        title=text(title, 200, "会议名称", "meeting title", required=False),
        place=text(place, 200, "会议地点", "place", required=False),
        chair=text(chair, 64, "主持人", "chair", required=False),
        created_by=actor.username,
        attendees=_attendees(session, attendees),
    )
    session.add(meeting)
    _set_agenda(session, meeting, today or local_today(), stalled_days)
    flush(session)
    audit(
        session,
        actor,
        "meeting.add",
        f"review_meeting:{meeting.id}",
        {"chain": chain, "held_on": held_on.isoformat(), "agenda": len(meeting.agenda)},
    )
    return meeting


def refresh_agenda(
    session: Session,
    actor: Actor,
    meeting_id: int,
    *,
    expected_version: int | None,
    today: date | None = None,
    stalled_days: int | None = None,
) -> ReviewMeeting:
    """Build the agenda again (before the meeting, when cases and projects have moved)."""
    meeting = get_meeting(session, meeting_id)
    require(actor, Action.edit, _target(meeting))
    check_version(meeting, expected_version, "该调度会", "this meeting")
    days = meeting.stalled_days if stalled_days is None else stalled_days
    _set_agenda(session, meeting, today or local_today(), days)
    _touch(session, meeting)
    audit(
        session,
        actor,
        "meeting.agenda",
        f"review_meeting:{meeting.id}",
        {"items": len(meeting.agenda)},
    )
    return meeting


def _touch(session: Session, meeting: ReviewMeeting) -> None:
    """Bump the meeting's version when only its children changed, so a concurrent edit of
    the same meeting is detected."""
    meeting.updated_at = utcnow()
    flush(session, "该调度会", "this meeting")


def update_meeting(
    session: Session,
    actor: Actor,
    meeting_id: int,
    *,
    expected_version: int | None,
    held_on: date | None = None,
    title: str | None = None,
    place: str | None = None,
    chair: str | None = None,
    summary: str | None = None,
    attendees: Sequence[AttendeeIn | str] | None = None,
) -> ReviewMeeting:
    meeting = get_meeting(session, meeting_id)
    require(actor, Action.edit, _target(meeting))
    check_version(meeting, expected_version, "该调度会", "this meeting")
    limits = {"title": (200, "会议名称", "meeting title"), "place": (200, "会议地点", "place")}
    limits |= {"chair": (64, "主持人", "chair"), "summary": (20000, "会议纪要", "summary")}
    given = {"title": title, "place": place, "chair": chair, "summary": summary}
    cleaned = {k: text(v, *limits[k], required=False) for k, v in given.items() if v is not None}
    changed: dict[str, Any] = {k: v for k, v in cleaned.items() if v != getattr(meeting, k)}
    if held_on is not None and held_on != meeting.held_on:
        changed["held_on"] = held_on
    rows = None if attendees is None else _attendees(session, attendees)
    for key, value in changed.items():
        setattr(meeting, key, value)
    if rows is not None:
        meeting.attendees = rows
        changed["attendees"] = [a.name for a in rows]
    if changed:
        _touch(session, meeting)
        audit(session, actor, "meeting.edit", f"review_meeting:{meeting.id}", changed)
    return meeting


def add_decision(
    session: Session,
    actor: Actor,
    meeting_id: int,
    decision: str,
    *,
    unit_id: int | None = None,
    deadline: date | None = None,
    case_id: int | None = None,
    title: str = "",
    category: str = CaseCategory.other.value,
    enterprise_name: str = "",
    enterprise_uscc: str | None = None,
) -> Decision:
    """Record a decision. With an owner unit (and then a deadline) it becomes an action
    item: a new case from this meeting — or, with `case_id`, the case it is about is
    reassigned to that unit and deadline."""
    meeting = get_meeting(session, meeting_id)
    require(actor, Action.edit, _target(meeting))
    body = text(decision, 4000, "会议决定", "decision", required=True)
    case: Case | None = None
    if case_id is not None:
        case = case_service.get_case(session, case_id)
        if unit_id is not None or deadline is not None:
            case = case_service.assign_case(
                session,
                actor,
                case.id,
                expected_version=None,
                unit_id=unit_id if unit_id is not None else case.unit_id,
                deadline=deadline if deadline is not None else case.deadline,
                note=f"调度会决定：{body}",
            )
    elif unit_id is not None:
        case = case_service.add_case(
            session,
            actor,
            title=title or body[:200],
            description=body,
            source=CaseSource.meeting.value,
            category=category,
            chain_id=meeting.chain_id,
            enterprise_name=enterprise_name,
            enterprise_uscc=enterprise_uscc,
            raised_on=meeting.held_on,
            meeting_id=meeting.id,
            unit_id=unit_id,
            deadline=deadline,
            note=f"调度会决定（{meeting.held_on.isoformat()}）",
        )
    elif deadline is not None:
        raise UserError(
            "有办理期限的决定需要指定责任单位", "a decision with a deadline needs an owner unit"
        )
    item = Decision(position=len(meeting.decisions), text=body, case_id=case.id if case else None)
    meeting.decisions.append(item)
    _touch(session, meeting)
    audit(
        session,
        actor,
        "meeting.decision",
        f"review_meeting:{meeting.id}",
        {"decision": body, "case": case.id if case else None},
    )
    return item


def list_meetings(
    session: Session, actor: Actor, *, chain_id: str | None = None
) -> list[ReviewMeeting]:
    query = select(ReviewMeeting).where(
        visible(actor, Kind.review_meeting, ReviewMeeting.chain_id, None)
    )
    if chain_id is not None:
        query = query.where(ReviewMeeting.chain_id == chain_id)
    return list(
        session.scalars(query.order_by(ReviewMeeting.held_on.desc(), ReviewMeeting.id.desc()))
    )
