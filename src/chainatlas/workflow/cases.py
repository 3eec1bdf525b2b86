"""Enterprise cases (企业诉求 / 堵点 / 难题): raised by an enterprise, a member unit, a visit
or a meeting; assigned to a unit with a deadline; worked on, resolved, and confirmed by the
enterprise — or reopened. Every change is a `CaseChange` row (who, when, action, from, to,
note) and an audit entry.

States and the moves between them (`TRANSITIONS`)::

    assign   open | assigned | in_progress | reopened  → assigned   (unit + deadline, again)
    start    assigned | reopened                       → in_progress
    resolve  in_progress                               → resolved   (with the resolution)
    confirm  resolved                                  → confirmed  (the enterprise agrees)
    reopen   resolved | confirmed                      → reopened   (with the reason)

A case is overdue when the (China) day is past its deadline and it is neither resolved nor
confirmed; `escalate_overdue` marks such cases once (`escalated_at`), so they show in red for
the chain office until they are resolved or given a new deadline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.ingest.validators import is_valid_uscc
from chainatlas.workflow.access import Action, Actor, Kind, Target, may, require
from chainatlas.workflow.edits import audit, check_version, choice, flush, local_today, text
from chainatlas.workflow.models import (
    CATEGORY_NAMES,
    CLOSED_STATES,
    SOURCE_NAMES,
    STATE_NAMES,
    Case,
    CaseChange,
    CaseSource,
    CaseState,
    Project,
    ReviewMeeting,
)
from chainatlas.workflow.organisation import get_unit
from chainatlas.workflow.visibility import visible

C = CaseState


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[CaseState]
    to: CaseState


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.assign, frozenset({C.open, C.assigned, C.in_progress, C.reopened}), C.assigned
        ),
        Transition(Action.start, frozenset({C.assigned, C.reopened}), C.in_progress),
        Transition(Action.resolve, frozenset({C.in_progress}), C.resolved),
        Transition(Action.confirm, frozenset({C.resolved}), C.confirmed),
        Transition(Action.reopen, frozenset({C.resolved, C.confirmed}), C.reopened),
    )
}
ACTION_NAMES: dict[Action, tuple[str, str]] = {
    Action.assign: ("交办", "assigned"),
    Action.start: ("开始办理", "started"),
    Action.resolve: ("办结", "resolved"),
    Action.confirm: ("确认", "confirmed"),
    Action.reopen: ("重新办理", "reopened"),
}
# enterprises raise cases about themselves: their name is needed then
NEEDS_ENTERPRISE = frozenset({CaseSource.enterprise.value, CaseSource.visit.value})
_EDITABLE = {
    "title": (200, "标题", "title"),
    "description": (4000, "问题描述", "description"),
    "enterprise_name": (200, "企业名称", "enterprise name"),
}


def allowed_actions(state: str) -> tuple[Action, ...]:
    """The state-changing actions possible from `state`."""
    return tuple(a for a, t in TRANSITIONS.items() if CaseState(state) in t.sources)


def state_name(state: str, lang: str = "zh") -> str:
    zh, en = STATE_NAMES.get(state, (state, state))
    return en if lang == "en" else zh


def is_overdue(case: Case, today: date) -> bool:
    return case.deadline is not None and case.state not in CLOSED_STATES and today > case.deadline


def get_case(session: Session, case_id: int, actor: Actor | None = None) -> Case:
    """The case; with `actor`, only if the actor may see it (NotAllowed otherwise)."""
    case = session.get(Case, case_id)
    if case is None:
        raise UserError(f"没有编号为 {case_id} 的诉求", f"no case with id {case_id}")
    if actor is not None:
        require(actor, Action.view, _target(case))
    return case


def case_actions(actor: Actor, case: Case) -> list[Action]:
    """The state changes the actor may make on the case now (the page's buttons)."""
    target = _target(case)
    return [a for a in allowed_actions(case.state) if may(actor, a, target)]


def _target(case: Case) -> Target:
    return Target(Kind.case, chain_id=case.chain_id, unit_id=case.unit_id)


def _log(
    case: Case,
    actor: Actor,
    action: str,
    before: str | None,
    note: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    case.history.append(
        CaseChange(
            at=utcnow(),
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            from_state=before,
            to_state=case.state,
            note=note,
            detail=json.dumps(dict(detail or {}), ensure_ascii=False, default=str),
        )
    )


def _uscc(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        return None
    if not is_valid_uscc(code):
        raise UserError(
            f"企业统一社会信用代码「{code}」无效：应为 18 位且校验位正确",
            f"invalid enterprise USCC {code!r}: 18 characters with a correct check digit",
        )
    return code


def _deadline(deadline: date | None, raised_on: date) -> date:
    if deadline is None:
        raise UserError("交办需要填写办理期限", "assigning needs a deadline")
    if deadline < raised_on:
        raise UserError(
            f"办理期限（{deadline}）不能早于提出日期（{raised_on}）",
            f"the deadline ({deadline}) cannot be before the day the case was raised ({raised_on})",
        )
    return deadline


def add_case(
    session: Session,
    actor: Actor,
    *,
    title: str,
    source: str,
    category: str,
    chain_id: str,
    enterprise_name: str = "",
    enterprise_uscc: str | None = None,
    node_id: str | None = None,
    description: str = "",
    raised_on: date | None = None,
    unit_id: int | None = None,
    deadline: date | None = None,
    meeting_id: int | None = None,
    project_id: int | None = None,
    note: str = "",
    chains: Mapping[str, Chain] | None = None,
) -> Case:
    """A new case, `open`; given a unit (and then a deadline) it is assigned at once."""
    source = choice(source, SOURCE_NAMES, "来源", "source")
    chain = text(chain_id, 64, "产业链", "chain", required=True)
    if chains is not None and chain not in chains:
        raise UserError(f"未知产业链「{chain}」", f"unknown chain {chain!r}")
    node = text(node_id, 64, "环节", "node", required=False) or None
    if node and chains is not None and node not in chains[chain].node_ids:
        raise UserError(
            f"产业链「{chain}」没有环节「{node}」", f"chain {chain!r} has no node {node!r}"
        )
    require(actor, Action.create, Target(Kind.case, chain_id=chain))
    raised = raised_on or local_today()
    if unit_id is not None:
        # checked before the case exists, so a refused assignment creates nothing
        require(actor, Action.assign, Target(Kind.case, chain_id=chain, unit_id=unit_id))
        _deadline(deadline, raised)
    if meeting_id is not None and session.get(ReviewMeeting, meeting_id) is None:
        raise UserError(
            f"没有编号为 {meeting_id} 的调度会", f"no review meeting with id {meeting_id}"
        )
    if project_id is not None and session.get(Project, project_id) is None:
        raise UserError(f"没有编号为 {project_id} 的项目", f"no project with id {project_id}")
    case = Case(
        title=text(title, *_EDITABLE["title"], required=True),
        description=text(description, *_EDITABLE["description"], required=False),
        source=source,
        category=choice(category, CATEGORY_NAMES, "类别", "category"),
        enterprise_name=text(
            enterprise_name, *_EDITABLE["enterprise_name"], required=source in NEEDS_ENTERPRISE
        ),
        enterprise_uscc=_uscc(enterprise_uscc),
        chain_id=chain,
        node_id=node,
        state=C.open.value,
        raised_on=raised,
        meeting_id=meeting_id,
        project_id=project_id,
        created_by=actor.username,
    )
    _log(case, actor, "create", None, text(note, 2000, "说明", "note", required=False))
    session.add(case)
    flush(session)
    audit(session, actor, "case.add", f"case:{case.id}", {"title": case.title, "chain": chain})
    if unit_id is not None:
        assign_case(
            session, actor, case.id, expected_version=None, unit_id=unit_id, deadline=deadline
        )
    return case


def _finish(
    session: Session, actor: Actor, case: Case, action: Action, note: str, detail: Mapping[str, Any]
) -> Case:
    """Flush one state change (a stale copy fails here) and audit it."""
    flush(session, "该诉求", "this case")
    audit(
        session,
        actor,
        f"case.{action.value}",
        f"case:{case.id}",
        {**detail, "to": case.state, "note": note},
    )
    return case


def _begin(
    session: Session, actor: Actor, case_id: int, action: Action, expected_version: int | None
) -> tuple[Case, CaseState]:
    case = get_case(session, case_id)
    transition = TRANSITIONS[action]
    state = CaseState(case.state)
    if state not in transition.sources:
        allowed_zh = "、".join(ACTION_NAMES[a][0] for a in allowed_actions(state)) or "无"
        allowed_en = ", ".join(a.value for a in allowed_actions(state)) or "none"
        raise UserError(
            f"「{state_name(state)}」状态的诉求不能{ACTION_NAMES[action][0]}（可以：{allowed_zh}）",
            f"a case that is {state_name(state, 'en')} cannot be {ACTION_NAMES[action][1]} "
            f"(allowed: {allowed_en})",
        )
    require(actor, action, _target(case))
    check_version(case, expected_version, "该诉求", "this case")
    return case, state


def assign_case(
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    expected_version: int | None,
    unit_id: int | None,
    deadline: date | None,
    note: str = "",
) -> Case:
    """Give the case to a unit with a deadline (again: a new unit or a new deadline); a new
    deadline lifts the escalation."""
    case, before = _begin(session, actor, case_id, Action.assign, expected_version)
    if unit_id is None:
        raise UserError("交办需要选择责任单位", "assigning needs a responsible unit")
    unit = get_unit(session, unit_id)
    when = _deadline(deadline, case.raised_on)
    note = text(note, 2000, "说明", "note", required=False)
    case.unit = unit
    case.deadline = when
    case.state = C.assigned.value
    case.assigned_at = utcnow()
    case.escalated_at = None
    detail = {"from": before.value, "unit": unit.name, "deadline": when.isoformat()}
    _log(case, actor, Action.assign.value, before.value, note, detail)
    return _finish(session, actor, case, Action.assign, note, detail)


def start_case(
    session: Session, actor: Actor, case_id: int, *, expected_version: int | None, note: str = ""
) -> Case:
    case, before = _begin(session, actor, case_id, Action.start, expected_version)
    note = text(note, 2000, "说明", "note", required=False)
    case.state = C.in_progress.value
    _log(case, actor, Action.start.value, before.value, note)
    return _finish(session, actor, case, Action.start, note, {"from": before.value})


def resolve_case(
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    expected_version: int | None,
    resolution: str,
) -> Case:
    case, before = _begin(session, actor, case_id, Action.resolve, expected_version)
    case.resolution = text(resolution, 4000, "办理结果", "resolution", required=True)
    case.state = C.resolved.value
    case.resolved_at = utcnow()
    _log(case, actor, Action.resolve.value, before.value, case.resolution)
    return _finish(session, actor, case, Action.resolve, case.resolution, {"from": before.value})


def confirm_case(
    session: Session, actor: Actor, case_id: int, *, expected_version: int | None, note: str = ""
) -> Case:
    """Record the enterprise's confirmation that the case is solved."""
    case, before = _begin(session, actor, case_id, Action.confirm, expected_version)
    note = text(note, 2000, "说明", "note", required=False)
    case.state = C.confirmed.value
    case.confirmed_at = utcnow()
    _log(case, actor, Action.confirm.value, before.value, note)
    return _finish(session, actor, case, Action.confirm, note, {"from": before.value})


def reopen_case(
    session: Session, actor: Actor, case_id: int, *, expected_version: int | None, reason: str
) -> Case:
    case, before = _begin(session, actor, case_id, Action.reopen, expected_version)
    reason = text(reason, 2000, "重新办理原因", "reason for reopening", required=True)
    case.state = C.reopened.value
    case.resolved_at = None
    case.confirmed_at = None
    _log(case, actor, Action.reopen.value, before.value, reason)
    return _finish(session, actor, case, Action.reopen, reason, {"from": before.value})


def update_case(
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    expected_version: int | None,
    title: str | None = None,
    description: str | None = None,
    enterprise_name: str | None = None,
    enterprise_uscc: str | None = None,
    category: str | None = None,
    note: str = "",
) -> Case:
    """Edit what the case says (its state, unit and deadline change through the actions)."""
    case = get_case(session, case_id)
    require(actor, Action.edit, _target(case))
    check_version(case, expected_version, "该诉求", "this case")
    changed: dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("description", description),
        ("enterprise_name", enterprise_name),
    ):
        if value is not None:
            required = key == "title" or (
                key == "enterprise_name" and case.source in NEEDS_ENTERPRISE
            )
            cleaned = text(value, *_EDITABLE[key], required=required)
            if cleaned != getattr(case, key):
                changed[key] = cleaned
    if enterprise_uscc is not None and _uscc(enterprise_uscc) != case.enterprise_uscc:
        changed["enterprise_uscc"] = _uscc(enterprise_uscc)
    if category is not None:
        cleaned_category = choice(category, CATEGORY_NAMES, "类别", "category")
        if cleaned_category != case.category:
            changed["category"] = cleaned_category
    if not changed:
        return case
    for key, value in changed.items():
        setattr(case, key, value)
    _log(
        case,
        actor,
        Action.edit.value,
        case.state,
        text(note, 2000, "说明", "note", required=False),
        changed,
    )
    flush(session, "该诉求", "this case")
    audit(session, actor, "case.edit", f"case:{case.id}", changed)
    return case


def list_cases(
    session: Session,
    actor: Actor,
    *,
    chain_id: str | None = None,
    state: str | None = None,
    unit_id: int | None = None,
    meeting_id: int | None = None,
    overdue_on: date | None = None,
) -> list[Case]:
    """The cases the actor may see; `overdue_on`: only those overdue on that day."""
    query = select(Case).where(visible(actor, Kind.case, Case.chain_id, Case.unit_id))
    if chain_id is not None:
        query = query.where(Case.chain_id == chain_id)
    if state is not None:
        query = query.where(Case.state == state)
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    if meeting_id is not None:
        query = query.where(Case.meeting_id == meeting_id)
    if overdue_on is not None:
        query = query.where(Case.deadline < overdue_on, Case.state.not_in(sorted(CLOSED_STATES)))
    return list(session.scalars(query.order_by(Case.deadline.asc().nulls_last(), Case.id)))


def escalate_overdue(session: Session, actor: Actor, *, today: date) -> list[Case]:
    """Mark every case overdue on `today` that is not yet escalated and that the actor may
    change; one history row and audit entry each. Run daily (job or page load)."""
    found = [
        c
        for c in list_cases(session, actor, overdue_on=today)
        if c.escalated_at is None and may(actor, Action.edit, _target(c))
    ]
    for case in found:
        case.escalated_at = utcnow()
        days = (today - case.deadline).days if case.deadline else 0
        _log(
            case, actor, "escalate", case.state, f"逾期 {days} 天，已提请链长办督办", {"days": days}
        )
        audit(session, actor, "case.escalate", f"case:{case.id}", {"days_overdue": days})
    flush(session, "诉求", "a case")
    return found


def escalated_cases(session: Session, actor: Actor, *, chain_id: str | None = None) -> list[Case]:
    """Escalated cases still open: what the chain office must chase (shown in red)."""
    query = select(Case).where(
        visible(actor, Kind.case, Case.chain_id, Case.unit_id),
        Case.escalated_at.is_not(None),
        Case.state.not_in(sorted(CLOSED_STATES)),
    )
    if chain_id is not None:
        query = query.where(Case.chain_id == chain_id)
    return list(session.scalars(query.order_by(Case.deadline, Case.id)))
