"""Member duty records (委员履职): enterprise visits, investment events (招商活动), research,
speeches at consultations, proposals, bank–enterprise matchmaking (银企对接) and village
pairing (百企扶百村), each optionally about chains, an enterprise, a workflow case, a meeting
or a proposal. A member with an account records its own; the CPPCC staff record anyone's.

An enterprise difficulty found on a visit becomes a workflow case (`raise_case_from_visit`),
linked to the visit: the yearly statistics count such cases as coordinated, and as solved
once resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.cppcc import fields
from chainatlas.cppcc.members import get_member
from chainatlas.cppcc.models import (
    Consultation,
    DutyRecord,
    DutyRecordChain,
    Member,
    Submission,
)
from chainatlas.cppcc.permissions import require_any, targets, visible
from chainatlas.cppcc.vocabulary import DUTY_KIND_NAMES, DutyKind, name_of
from chainatlas.errors import UserError
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, Target
from chainatlas.workflow.edits import audit, check_version, choice, flush, local_today, text
from chainatlas.workflow.models import Case, CaseSource

WHAT = ("该履职记录", "this duty record")
# duties about one enterprise need its name
NEEDS_ENTERPRISE = frozenset({DutyKind.visit.value})


class _Unchanged:
    """Marks a link argument left as it is (None clears the link)."""


UNCHANGED: Final = _Unchanged()


def kind_name(kind: str, lang: str = "zh") -> str:
    return name_of(DUTY_KIND_NAMES, kind, lang)


def duty_targets(record: DutyRecord) -> list[Target]:
    return targets(Kind.duty_record, chain_ids=record.chain_ids, owner_id=record.member.user_id)


def get_duty(session: Session, duty_id: int, actor: Actor | None = None) -> DutyRecord:
    record = session.get(DutyRecord, duty_id)
    if record is None:
        raise UserError(f"没有编号为 {duty_id} 的履职记录", f"no duty record with id {duty_id}")
    if actor is not None:
        require_any(actor, Action.view, duty_targets(record))
    return record


def _day(value: date) -> date:
    if value > local_today():
        raise UserError(
            f"履职日期（{value}）不能晚于今天", f"the duty date ({value}) cannot be in the future"
        )
    return value


def _link(session: Session, model: type[Any], key: int | None, zh: str, en: str) -> int | None:
    if key is None:
        return None
    if session.get(model, key) is None:
        raise UserError(f"没有编号为 {key} 的{zh}", f"no {en} with id {key}")
    return key


def _links(
    session: Session, case_id: Any, consultation_id: Any, submission_id: Any
) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    if case_id is not UNCHANGED:
        found["case_id"] = _link(session, Case, case_id, "诉求", "case")
    if consultation_id is not UNCHANGED:
        found["consultation_id"] = _link(
            session, Consultation, consultation_id, "协商会议", "consultation"
        )
    if submission_id is not UNCHANGED:
        found["submission_id"] = _link(session, Submission, submission_id, "提案", "submission")
    return found


def add_duty(
    session: Session,
    actor: Actor,
    *,
    member_id: int,
    kind: str,
    done_on: date,
    title: str,
    description: str = "",
    enterprise_name: str = "",
    enterprise_uscc: str | None = None,
    case_id: int | None = None,
    consultation_id: int | None = None,
    submission_id: int | None = None,
    chain_ids: Sequence[str] = (),
    chains: Mapping[str, Chain] | None = None,
) -> DutyRecord:
    member = get_member(session, member_id)
    checked_kind = choice(kind, DUTY_KIND_NAMES, "履职类型", "duty kind")
    record = DutyRecord(
        member=member,
        kind=checked_kind,
        done_on=_day(done_on),
        title=text(title, 200, "履职事项", "title", required=True),
        description=text(description, 4000, "情况说明", "description", required=False),
        enterprise_name=text(
            enterprise_name,
            200,
            "企业名称",
            "enterprise name",
            required=checked_kind in NEEDS_ENTERPRISE,
        ),
        enterprise_uscc=fields.uscc(enterprise_uscc),
        chains=[DutyRecordChain(chain_id=c) for c in fields.chain_ids(chain_ids, chains)],
        created_by=actor.username,
        **_links(session, case_id, consultation_id, submission_id),
    )
    require_any(actor, Action.create, duty_targets(record))
    session.add(record)
    flush(session)
    audit(
        session,
        actor,
        "cppcc.duty.add",
        f"duty_record:{record.id}",
        {
            "member": member.name,
            "kind": checked_kind,
            "done_on": record.done_on.isoformat(),
            "title": record.title,
        },
    )
    return record


_TEXTS: dict[str, tuple[int, str, str]] = {
    "title": (200, "履职事项", "title"),
    "description": (4000, "情况说明", "description"),
    "enterprise_name": (200, "企业名称", "enterprise name"),
}


def _editable(
    session: Session, actor: Actor, duty_id: int, expected_version: int | None
) -> DutyRecord:
    record = get_duty(session, duty_id)
    require_any(actor, Action.edit, duty_targets(record))
    check_version(record, expected_version, *WHAT)
    return record


def update_duty(
    session: Session,
    actor: Actor,
    duty_id: int,
    *,
    expected_version: int | None,
    kind: str | None = None,
    done_on: date | None = None,
    title: str | None = None,
    description: str | None = None,
    enterprise_name: str | None = None,
    enterprise_uscc: str | None = None,
    chain_ids: Sequence[str] | None = None,
    case_id: int | _Unchanged | None = UNCHANGED,
    consultation_id: int | _Unchanged | None = UNCHANGED,
    submission_id: int | _Unchanged | None = UNCHANGED,
    chains: Mapping[str, Chain] | None = None,
) -> DutyRecord:
    """Edit a duty record (links: None clears, UNCHANGED keeps)."""
    record = _editable(session, actor, duty_id, expected_version)
    changed: dict[str, Any] = {}
    if kind is not None:
        checked = choice(kind, DUTY_KIND_NAMES, "履职类型", "duty kind")
        if checked != record.kind:
            changed["kind"] = checked
    if done_on is not None and done_on != record.done_on:
        changed["done_on"] = _day(done_on)
    new_kind = changed.get("kind", record.kind)
    for key, value in {
        "title": title,
        "description": description,
        "enterprise_name": enterprise_name,
    }.items():
        current = getattr(record, key) if value is None else value
        required = key == "title" or (key == "enterprise_name" and new_kind in NEEDS_ENTERPRISE)
        cleaned = text(current, *_TEXTS[key], required=required)
        if cleaned != getattr(record, key):
            changed[key] = cleaned
    if enterprise_uscc is not None and fields.uscc(enterprise_uscc) != record.enterprise_uscc:
        changed["enterprise_uscc"] = fields.uscc(enterprise_uscc)
    for key, link in _links(session, case_id, consultation_id, submission_id).items():
        if link != getattr(record, key):
            changed[key] = link
    for key, value in changed.items():
        setattr(record, key, value)
    if chain_ids is not None:
        ids = fields.chain_ids(chain_ids, chains)
        if ids != record.chain_ids:
            require_any(
                actor,
                Action.edit,
                targets(Kind.duty_record, chain_ids=ids, owner_id=record.member.user_id),
            )
            record.chains = [DutyRecordChain(chain_id=c) for c in ids]
            changed["chains"] = ids
    if changed:
        flush(session, *WHAT)
        audit(session, actor, "cppcc.duty.edit", f"duty_record:{record.id}", changed)
    return record


def delete_duty(
    session: Session, actor: Actor, duty_id: int, *, expected_version: int | None, reason: str
) -> None:
    """Remove a duty record entered by mistake; the audit entry keeps what it said."""
    record = _editable(session, actor, duty_id, expected_version)
    why = text(reason, 2000, "删除原因", "reason for deleting", required=True)
    kept = {
        "member": record.member.name,
        "kind": record.kind,
        "done_on": record.done_on.isoformat(),
        "title": record.title,
        "enterprise": record.enterprise_name,
        "chains": record.chain_ids,
        "case": record.case_id,
        "reason": why,
    }
    session.delete(record)
    flush(session, *WHAT)
    audit(session, actor, "cppcc.duty.delete", f"duty_record:{duty_id}", kept)


def raise_case_from_visit(
    session: Session,
    actor: Actor,
    duty_id: int,
    *,
    title: str,
    category: str,
    chain_id: str,
    description: str = "",
    unit_id: int | None = None,
    deadline: date | None = None,
    expected_version: int | None = None,
    chains: Mapping[str, Chain] | None = None,
) -> Case:
    """A difficulty found on an enterprise visit becomes a workflow case (source `visit`,
    the visited enterprise, raised on the visit's day) linked to the visit. Whoever sees the
    visit and may raise cases on the chain (the chain-chief rules: e.g. the chain office)
    may do it; linking the case does not change what the member recorded."""
    record = get_duty(session, duty_id, actor)
    check_version(record, expected_version, *WHAT)
    if record.kind != DutyKind.visit:
        raise UserError(
            "只有走访企业记录可以提出企业诉求",
            "only an enterprise visit can raise an enterprise case",
        )
    if record.case_id is not None:
        raise UserError(
            f"该走访已关联诉求 #{record.case_id}",
            f"this visit is already linked to case #{record.case_id}",
        )
    case = case_service.add_case(
        session,
        actor,
        title=title,
        source=CaseSource.visit.value,
        category=category,
        chain_id=chain_id,
        enterprise_name=record.enterprise_name,
        enterprise_uscc=record.enterprise_uscc,
        description=description,
        raised_on=record.done_on,
        unit_id=unit_id,
        deadline=deadline,
        note=f"政协委员{record.member.name}走访发现（{record.done_on.isoformat()}）",
        chains=chains,
    )
    record.case_id = case.id
    flush(session, *WHAT)
    audit(session, actor, "cppcc.duty.case", f"duty_record:{record.id}", {"case": case.id})
    return case


def _chain_filter(ids: list[str]) -> Any:
    return DutyRecord.id.in_(
        select(DutyRecordChain.duty_record_id).where(DutyRecordChain.chain_id.in_(ids))
    )


def list_duties(
    session: Session,
    actor: Actor,
    *,
    member_id: int | None = None,
    year: int | None = None,
    kind: str | None = None,
    chain_id: str | None = None,
) -> list[DutyRecord]:
    """The duty records the actor may see, newest first."""
    query = select(DutyRecord).where(
        visible(
            actor,
            Kind.duty_record,
            chain=_chain_filter,
            owner=lambda uid: DutyRecord.member_id.in_(
                select(Member.id).where(Member.user_id == uid)
            ),
        )
    )
    if member_id is not None:
        query = query.where(DutyRecord.member_id == member_id)
    if year is not None:
        query = query.where(DutyRecord.done_on.between(date(year, 1, 1), date(year, 12, 31)))
    if kind is not None:
        query = query.where(DutyRecord.kind == kind)
    if chain_id is not None:
        query = query.where(_chain_filter([chain_id]))
    return list(session.scalars(query.order_by(DutyRecord.done_on.desc(), DutyRecord.id.desc())))
