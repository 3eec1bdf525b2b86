"""Suggestions (意见建议), proposals (提案) and public-opinion reports (社情民意信息) — one
table of submissions with a `kind` — and their handling: registered, assigned to one or
more handling units (workflow units: one lead 主办, others 协办, each with a deadline), and
answered by each unit (answer text, date, who signed it). Every change is a history row
(`SubmissionChange`) and an audit entry, in the same transaction.

States::

    registered → assigned           (units given; adding a unit later reopens an answered one)
    assigned   → answered           (when every handling unit has answered)
    any open   → merged | split     (see `merging`; the handling goes on elsewhere)

The result (status, progress, milestones) is tracked in `results`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from chainatlas.atlas.model import Chain
from chainatlas.cppcc import fields
from chainatlas.cppcc.consultations import get_consultation
from chainatlas.cppcc.groups import check_group
from chainatlas.cppcc.members import get_member
from chainatlas.cppcc.models import Handling, Member, Signer, Submission, SubmissionChange
from chainatlas.cppcc.permissions import require_any, targets, visible
from chainatlas.cppcc.vocabulary import (
    CLOSED_SUBMISSION_STATES,
    SUBMISSION_KIND_NAMES,
    SUBMISSION_STATE_NAMES,
    DutyKind,
    HandlingState,
    SubmissionKind,
    SubmissionState,
    name_of,
)
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.workflow.access import OWN, Action, Actor, Kind, Target, scopes
from chainatlas.workflow.edits import audit, check_version, choice, flush, local_today, text
from chainatlas.workflow.organisation import get_unit

S = SubmissionState
WHAT = ("该意见建议", "this submission")


@dataclass(frozen=True)
class HandlingIn:
    unit_id: int
    lead: bool = False
    deadline: date | None = None


def state_name(state: str, lang: str = "zh") -> str:
    return name_of(SUBMISSION_STATE_NAMES, state, lang)


def kind_name(kind: str, lang: str = "zh") -> str:
    return name_of(SUBMISSION_KIND_NAMES, kind, lang)


def label(submission: Submission, lang: str = "zh") -> str:
    """How a submission is named in messages: kind, number or id, title."""
    number = submission.number or f"#{submission.id}"
    return f"{kind_name(submission.kind, lang)} {number}"


def submission_targets(submission: Submission) -> list[Target]:
    owner = submission.member.user_id if submission.member is not None else None
    return targets(
        Kind.submission,
        chain_ids=[submission.chain_id],
        unit_ids=[h.unit_id for h in submission.handlings],
        owner_id=owner,
    )


def get_submission(session: Session, submission_id: int, actor: Actor | None = None) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise UserError(
            f"没有编号为 {submission_id} 的意见建议（提案、社情民意）",
            f"no suggestion, proposal or opinion report with id {submission_id}",
        )
    if actor is not None:
        require_any(actor, Action.view, submission_targets(submission))
    return submission


def log(
    submission: Submission,
    actor: Actor,
    action: str,
    before: str | None,
    note: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One history row (the caller flushes and audits)."""
    submission.history.append(
        SubmissionChange(
            at=utcnow(),
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            from_state=before,
            to_state=submission.state,
            note=note,
            detail=fields.as_json(detail),
        )
    )


def require_open(submission: Submission) -> None:
    if submission.state in CLOSED_SUBMISSION_STATES:
        where_zh = where_en = ""
        if submission.merged_into_id is not None:
            where_zh = f"，已并入 #{submission.merged_into_id}，请在该件上办理"
            where_en = f"; it was merged into #{submission.merged_into_id}, handle that one"
        raise UserError(
            f"{label(submission)}{state_name(submission.state)}{where_zh}",
            f"{label(submission, 'en')} is {state_name(submission.state, 'en')}{where_en}",
        )


def editable(
    session: Session,
    actor: Actor,
    submission_id: int,
    action: Action,
    expected_version: int | None,
) -> Submission:
    """The submission, open, that the actor may `action`, as the editor last saw it."""
    submission = get_submission(session, submission_id)
    require_any(actor, action, submission_targets(submission))
    check_version(submission, expected_version, *WHAT)
    require_open(submission)
    return submission


def finish(
    session: Session,
    actor: Actor,
    submission: Submission,
    action: str,
    detail: Mapping[str, Any],
) -> Submission:
    """Bump the version (children alone do not), flush (a stale copy fails here), audit."""
    submission.updated_at = utcnow()
    flush(session, *WHAT)
    audit(session, actor, f"cppcc.submission.{action}", f"submission:{submission.id}", dict(detail))
    return submission


def _signers(
    session: Session, kind: str, member_ids: Sequence[int], lead: int | None
) -> list[Signer]:
    if member_ids and kind != SubmissionKind.proposal:
        raise UserError("只有提案可以联名", "only proposals have co-signers")
    rows: list[Signer] = []
    for member_id in dict.fromkeys(member_ids):
        member = get_member(session, member_id)
        if member.id == lead:
            continue
        rows.append(Signer(member_id=member.id, position=len(rows)))
    return rows


def add_submission(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    title: str,
    content: str = "",
    raised_on: date | None = None,
    consultation_id: int | None = None,
    group: str | None = None,
    member_id: int | None = None,
    co_signers: Sequence[int] = (),
    chain_id: str | None = None,
    number: str = "",
    units: Sequence[HandlingIn] = (),
    note: str = "",
    record_duty: bool = True,
    chains: Mapping[str, Chain] | None = None,
) -> Submission:
    """Register a submission raised by a party or sector (`group`) and/or a member (a
    proposal's lead proposer); at a meeting it defaults to the meeting's day. A member's
    proposal also counts as its `proposal` duty record (unless `record_duty` is False).
    Given `units`, it is assigned at once."""
    checked_kind = choice(kind, SUBMISSION_KIND_NAMES, "类型", "kind")
    meeting = None
    if consultation_id is not None:
        meeting = get_consultation(session, consultation_id, actor)
    member = None if member_id is None else get_member(session, member_id)
    group_id = check_group(group, "提出的党派或界别", "party or sector raising it")
    if member is None and group_id is None:
        raise UserError(
            "请填写提出者：党派、界别或委员", "who raised it is required: a party, sector or member"
        )
    raised = raised_on or (meeting.held_on if meeting else local_today())
    submission = Submission(
        kind=checked_kind,
        number=text(number, 32, "编号", "number", required=False),
        title=text(title, 200, "标题", "title", required=True),
        content=text(content, 20000, "内容", "content", required=False),
        raised_on=raised,
        consultation_id=meeting.id if meeting else None,
        group_id=group_id,
        member=member,
        chain_id=fields.chain_id(chain_id, chains),
        state=S.registered.value,
        status="planned",
        progress=0.0,
        signers=_signers(session, checked_kind, co_signers, member.id if member else None),
        created_by=actor.username,
    )
    require_any(actor, Action.create, submission_targets(submission))
    log(submission, actor, "create", None, text(note, 2000, "说明", "note", required=False))
    session.add(submission)
    flush(session)
    audit(
        session,
        actor,
        "cppcc.submission.add",
        f"submission:{submission.id}",
        {
            "kind": checked_kind,
            "title": submission.title,
            "consultation": submission.consultation_id,
            "group": group_id,
            "member": member.id if member else None,
        },
    )
    if record_duty and member is not None and checked_kind == SubmissionKind.proposal:
        from chainatlas.cppcc.duties import add_duty  # duties links back to submissions

        add_duty(
            session,
            actor,
            member_id=member.id,
            kind=DutyKind.proposal.value,
            done_on=raised,
            title=submission.title,
            submission_id=submission.id,
            chain_ids=[submission.chain_id] if submission.chain_id else (),
            chains=chains,
        )
    if units:
        assign_units(session, actor, submission.id, units, expected_version=None)
    return submission


_TEXTS: dict[str, tuple[int, str, str, bool]] = {
    "title": (200, "标题", "title", True),
    "content": (20000, "内容", "content", False),
    "number": (32, "编号", "number", False),
}


def edits_as_author_only(actor: Actor) -> bool:
    """The actor edits a submission only as the member who raised it: then only while it is
    registered (not yet handed to units), and not its number or the raising party/sector —
    the staff's registration."""
    return scopes(actor, Kind.submission, Action.edit) <= OWN


def update_submission(
    session: Session,
    actor: Actor,
    submission_id: int,
    *,
    expected_version: int | None,
    title: str | None = None,
    content: str | None = None,
    number: str | None = None,
    group: str | None = None,
    chain_id: str | None = None,
    co_signers: Sequence[int] | None = None,
    note: str = "",
    chains: Mapping[str, Chain] | None = None,
) -> Submission:
    """Edit what the submission says (`group=""` / `chain_id=""` clear them)."""
    submission = editable(session, actor, submission_id, Action.edit, expected_version)
    if edits_as_author_only(actor):
        if submission.state != S.registered.value:
            raise UserError(
                f"{label(submission)}已交办理单位办理，不能再由委员修改；如需更正请联系政协工作人员",
                f"{label(submission, 'en')} is with its handling units and can no longer be "
                "changed by its member; ask the CPPCC staff to correct it",
            )
        if (number is not None and number.strip() != (submission.number or "")) or (
            group is not None and (group.strip() or None) != submission.group_id
        ):
            raise UserError(
                "编号和提出的党派或界别由政协工作人员登记，委员不能修改",
                "the number and the raising party or sector are registered by the CPPCC "
                "staff; a member cannot change them",
            )
        number = group = None
    changed: dict[str, Any] = {}
    for key, value in {"title": title, "content": content, "number": number}.items():
        if value is not None:
            cleaned = text(value, *_TEXTS[key][:3], required=_TEXTS[key][3])
            if cleaned != getattr(submission, key):
                changed[key] = cleaned
    if group is not None:
        group_id = check_group(group, "提出的党派或界别", "party or sector raising it")
        if group_id is None and submission.member_id is None:
            raise UserError(
                "请填写提出者：党派、界别或委员",
                "who raised it is required: a party, sector or member",
            )
        if group_id != submission.group_id:
            changed["group_id"] = group_id
    if chain_id is not None and fields.chain_id(chain_id, chains) != submission.chain_id:
        changed["chain_id"] = fields.chain_id(chain_id, chains)
    for key, value in changed.items():
        setattr(submission, key, value)
    if co_signers is not None:
        rows = _signers(session, submission.kind, co_signers, submission.member_id)
        if [r.member_id for r in rows] != [s.member_id for s in submission.signers]:
            submission.signers = rows
            changed["co_signers"] = [r.member_id for r in rows]
    if not changed:
        return submission
    log(
        submission,
        actor,
        Action.edit.value,
        submission.state,
        text(note, 2000, "说明", "note", required=False),
        changed,
    )
    return finish(session, actor, submission, "edit", changed)


def _after_handling_change(submission: Submission) -> None:
    """The state follows the handling units: none → registered, all answered → answered."""
    if not submission.handlings:
        submission.state = S.registered.value
    elif all(h.state == HandlingState.answered for h in submission.handlings):
        submission.state = S.answered.value
    else:
        submission.state = S.assigned.value


def assign_units(
    session: Session,
    actor: Actor,
    submission_id: int,
    units: Sequence[HandlingIn],
    *,
    expected_version: int | None,
    note: str = "",
) -> Submission:
    """Give the submission to handling units (交办): new units are added, units already
    handling it get the lead flag and deadline given. One unit leads (主办): the one marked
    `lead`, else the current lead, else the first."""
    submission = editable(session, actor, submission_id, Action.assign, expected_version)
    if not units:
        raise UserError("请选择至少一个承办单位", "choose at least one handling unit")
    if sum(1 for u in units if u.lead) > 1:
        raise UserError("只能有一个主办单位", "only one unit can lead (主办)")
    before = submission.state
    rows = {h.unit_id: h for h in submission.handlings}
    given: list[dict[str, Any]] = []
    for item in units:
        unit = get_unit(session, item.unit_id)
        if item.deadline is not None and item.deadline < submission.raised_on:
            raise UserError(
                f"{unit.name}的办理期限（{item.deadline}）不能早于提出日期（{submission.raised_on}）",
                f"the deadline of {unit.name} ({item.deadline}) cannot be before the day it "
                f"was raised ({submission.raised_on})",
            )
        row = rows.get(unit.id)
        if row is None:
            row = Handling(
                unit=unit,
                unit_id=unit.id,
                lead=False,
                deadline=item.deadline,
                state=HandlingState.assigned.value,
                assigned_at=utcnow(),
                assigned_by=actor.username,
            )
            submission.handlings.append(row)
            rows[unit.id] = row
        elif item.deadline is not None:
            row.deadline = item.deadline
        given.append({"unit": unit.name, "lead": item.lead, "deadline": item.deadline})
    lead = next((u.unit_id for u in units if u.lead), None)
    if lead is None:
        current = next((h.unit_id for h in submission.handlings if h.lead), None)
        lead = current if current is not None else units[0].unit_id
    for unit_id, row in rows.items():
        row.lead = unit_id == lead
    _after_handling_change(submission)
    detail = {"units": given, "lead": rows[lead].unit.name}
    log(
        submission,
        actor,
        Action.assign.value,
        before,
        text(note, 2000, "说明", "note", required=False),
        detail,
    )
    return finish(session, actor, submission, "assign", detail)


def remove_unit(
    session: Session,
    actor: Actor,
    submission_id: int,
    unit_id: int,
    *,
    expected_version: int | None,
    note: str = "",
) -> Submission:
    """Take a unit off the submission (assigned by mistake); an answer given stays on record
    in the history, so a unit that answered cannot be removed."""
    submission = editable(session, actor, submission_id, Action.assign, expected_version)
    row = next((h for h in submission.handlings if h.unit_id == unit_id), None)
    if row is None:
        raise UserError(
            f"单位 {unit_id} 不是{label(submission)}的承办单位",
            f"unit {unit_id} is not handling {label(submission, 'en')}",
        )
    if row.state == HandlingState.answered:
        raise UserError(
            f"{row.unit.name}已答复，不能移除",
            f"{row.unit.name} has answered; it cannot be removed",
        )
    before = submission.state
    name = row.unit.name
    submission.handlings.remove(row)
    if row.lead and submission.handlings:
        submission.handlings[0].lead = True
    _after_handling_change(submission)
    detail = {"unit": name}
    log(
        submission,
        actor,
        "unassign",
        before,
        text(note, 2000, "说明", "note", required=False),
        detail,
    )
    return finish(session, actor, submission, "unassign", detail)


def get_handling(session: Session, handling_id: int) -> Handling:
    handling = session.get(Handling, handling_id)
    if handling is None:
        raise UserError(
            f"没有编号为 {handling_id} 的办理记录", f"no handling with id {handling_id}"
        )
    return handling


def handling_target(handling: Handling) -> list[Target]:
    """A unit answers for itself: the target is the submission's chain and this one unit."""
    submission = handling.submission
    owner = submission.member.user_id if submission.member is not None else None
    return targets(
        Kind.submission,
        chain_ids=[submission.chain_id],
        unit_ids=[handling.unit_id],
        owner_id=owner,
    )


def answer(
    session: Session,
    actor: Actor,
    handling_id: int,
    *,
    expected_version: int | None,
    answer_text: str,
    answered_on: date | None = None,
    answered_by: str = "",
) -> Handling:
    """A handling unit's answer (答复): the text, the day and who signed it. Answering again
    replaces the answer; the earlier one stays in the history. `expected_version` is the
    handling row's (each unit answers on its own)."""
    handling = get_handling(session, handling_id)
    submission = handling.submission
    require_any(actor, Action.answer, handling_target(handling))
    check_version(handling, expected_version, "该答复", "this answer")
    require_open(submission)
    day = answered_on or local_today()
    if day < submission.raised_on:
        raise UserError(
            f"答复日期（{day}）不能早于提出日期（{submission.raised_on}）",
            f"the answer date ({day}) cannot be before the day it was raised "
            f"({submission.raised_on})",
        )
    body = text(answer_text, 20000, "答复内容", "answer", required=True)
    signer = text(answered_by, 128, "答复人", "answered by", required=False)
    before = submission.state
    previous = handling.answer if handling.state == HandlingState.answered else None
    # no autoflush: loading the other handling units must not flush this row half-changed
    # (a stale row then fails in `flush` below, as a conflict)
    with session.no_autoflush:
        handling.answer = body
        handling.answered_on = day
        handling.answered_by = signer
        handling.answered_user = actor.username
        handling.answered_at = utcnow()
        handling.state = HandlingState.answered.value
        _after_handling_change(submission)
    detail: dict[str, Any] = {
        "unit": handling.unit.name,
        "answered_on": day.isoformat(),
        "answered_by": signer,
    }
    if previous is not None:
        detail["previous_answer"] = previous
    log(submission, actor, Action.answer.value, before, body, detail)
    flush(session, "该答复", "this answer")
    finish(session, actor, submission, "answer", detail)
    return handling


def _member_filter(user_id: int) -> Any:
    return Submission.member_id.in_(select(Member.id).where(Member.user_id == user_id))


def _unit_filter(unit_ids: list[int]) -> Any:
    return Submission.id.in_(select(Handling.submission_id).where(Handling.unit_id.in_(unit_ids)))


def list_submissions(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    state: str | None = None,
    consultation_id: int | None = None,
    unit_id: int | None = None,
    member_id: int | None = None,
    chain_id: str | None = None,
    year: int | None = None,
    include_closed: bool = True,
) -> list[Submission]:
    """The submissions the actor may see (newest first)."""
    query = select(Submission).where(
        visible(
            actor,
            Kind.submission,
            chain=lambda ids: Submission.chain_id.in_(ids),
            unit=_unit_filter,
            owner=_member_filter,
        )
    )
    if kind is not None:
        query = query.where(Submission.kind == kind)
    if state is not None:
        query = query.where(Submission.state == state)
    if consultation_id is not None:
        query = query.where(Submission.consultation_id == consultation_id)
    if unit_id is not None:
        query = query.where(_unit_filter([unit_id]))
    if member_id is not None:
        query = query.where(Submission.member_id == member_id)
    if chain_id is not None:
        query = query.where(Submission.chain_id == chain_id)
    if year is not None:
        query = query.where(Submission.raised_on.between(date(year, 1, 1), date(year, 12, 31)))
    if not include_closed:
        query = query.where(Submission.state.not_in(sorted(CLOSED_SUBMISSION_STATES)))
    # a list shows no record's history or milestones: loading them for every row (selectin
    # by default) tripled the time of a 2,000-row list; a page that needs one loads it
    query = query.options(lazyload(Submission.history), lazyload(Submission.milestones))
    return list(session.scalars(query.order_by(Submission.raised_on.desc(), Submission.id.desc())))


def final_submission(session: Session, submission: Submission) -> Submission:
    """Where the handling of a submission went: itself, or the one it was merged into (and
    so on, when that one was merged again)."""
    seen = {submission.id}
    current = submission
    while current.merged_into_id is not None and current.merged_into_id not in seen:
        seen.add(current.merged_into_id)
        current = get_submission(session, current.merged_into_id)
    return current


def split_parts(session: Session, submission: Submission) -> list[Submission]:
    """The submissions a split one was divided into."""
    query = select(Submission).where(Submission.split_from_id == submission.id)
    return list(session.scalars(query.order_by(Submission.id)))


def merged_sources(session: Session, submission: Submission) -> list[Submission]:
    """The submissions merged into this one."""
    query = select(Submission).where(Submission.merged_into_id == submission.id)
    return list(session.scalars(query.order_by(Submission.id)))
