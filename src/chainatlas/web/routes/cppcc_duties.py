"""委员履职 (member duty records): the list with its filters (year, kind, member, chain,
text), the form a member fills in for itself (the member fixed to its own) and the CPPCC
staff fill in for anyone, a record's page with its links (chains, the enterprise in the
warehouse, the workflow case, the consultation, the proposal), its edit form, deletion
with a reason, and "raise a case from this visit" for whoever may raise chain-chief cases
on the visit's chain. Every change goes through `cppcc.duties`, which checks the access
rules, locks optimistically (the forms carry the `version` they were loaded with) and
audits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.cppcc import duties as duty_service
from chainatlas.cppcc.consultations import list_consultations
from chainatlas.cppcc.groups import group_name
from chainatlas.cppcc.members import list_members, member_of_user
from chainatlas.cppcc.models import Consultation, DutyRecord, Member, Submission
from chainatlas.cppcc.permissions import may_any, require_any
from chainatlas.cppcc.vocabulary import DUTY_KIND_NAMES, DutyKind
from chainatlas.errors import UserError
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._workflow import (
    PAGE_SIZE,
    chain_choices,
    check_chain,
    failure_status,
    may_anywhere,
    message,
    parse_choice,
    parse_day,
    parse_id,
    require_anywhere,
    reraise_refusal,
    units_for_chain,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow.access import Action, Actor, Kind, NotAllowed, Scope, Target, may, scopes
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import CATEGORY_NAMES, STATE_NAMES, Case

router = APIRouter()
# a record's id in a path: beyond what the database stores is a 422, not a server error
DutyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# consultations offered in the form's link picker (newest first)
MEETING_CHOICES = 200


class DutyForm(BaseModel):
    """The duty record forms as posted: new, edit, delete."""

    member_id: str = Field("", max_length=20)
    kind: str = Field("", max_length=32)
    done_on: str = Field("", max_length=20)
    title: str = Field("", max_length=1000)
    description: str = Field("", max_length=10000)
    enterprise_name: str = Field("", max_length=1000)
    enterprise_uscc: str = Field("", max_length=100)
    chain_ids: list[str] = Field(default_factory=list, max_length=100)
    case_id: str = Field("", max_length=20)
    consultation_id: str = Field("", max_length=20)
    submission_id: str = Field("", max_length=20)
    reason: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class VisitCaseForm(BaseModel):
    """ "Raise a case from this visit" as posted."""

    title: str = Field("", max_length=1000)
    category: str = Field("", max_length=32)
    chain_id: str = Field("", max_length=100)
    description: str = Field("", max_length=10000)
    unit_id: str = Field("", max_length=20)
    deadline: str = Field("", max_length=20)
    version: str = Field("", max_length=20)


def parse_year(value: str, default: int | None = None) -> int | None:
    """A year typed into a filter ("" → `default`); a UserError naming the field."""
    cleaned = (value or "").strip()
    if not cleaned:
        return default
    if not cleaned.isdigit() or not 1949 <= int(cleaned) <= 2200:
        raise UserError(
            f"「年度」无效：{cleaned[:20]}（应为 1949–2200 的年份）",
            f"'year': {cleaned[:20]} is not a year from 1949 to 2200",
        )
    return int(cleaned)


def _required_day(value: str) -> date:
    day = parse_day(value, "履职日期", "date")
    if day is None:
        raise UserError("请填写履职日期", "the date is required")
    return day


def warehouse_names(request: Request, usccs: Iterable[str | None]) -> dict[str, str]:
    """The registered names of the enterprises the warehouse knows (uscc → name)."""
    state = app_state(request)
    codes = sorted({u for u in usccs if u})
    if not codes or not state.warehouse.exists:
        return {}
    with state.warehouse.read() as wh:
        if not wh.has_table("enterprises"):
            return {}
        frame = wh.sql(
            "SELECT uscc, any_value(name) AS name FROM enterprises "
            "WHERE uscc IN (SELECT unnest(?::VARCHAR[])) GROUP BY uscc",
            [codes],
        )
    return {str(u): str(n) for u, n in frame.iter_rows()}


def may_record_any(actor: Actor) -> bool:
    """The CPPCC staff: record duties for any member."""
    return Scope.any in scopes(actor, Kind.duty_record, Action.create)


def may_record_own(actor: Actor, own: Member | None) -> bool:
    """A member with an account: record its own duties."""
    return own is not None and Scope.own in scopes(actor, Kind.duty_record, Action.create)


def _titles(session: Session, model: Any, column: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(model.id, column).where(model.id.in_(wanted)))
    return {int(r[0]): r[1] for r in rows}


def _links(session: Session, records: list[DutyRecord]) -> dict[str, dict[int, Any]]:
    """Titles of the cases, consultations and proposals the records link to."""
    cases = {
        int(r[0]): (r[1], r[2])
        for r in session.execute(
            select(Case.id, Case.title, Case.state).where(
                Case.id.in_(sorted({r.case_id for r in records if r.case_id is not None}))
            )
        )
    }
    return {
        "cases": cases,
        "meetings": _titles(
            session, Consultation, Consultation.topic, (r.consultation_id for r in records)
        ),
        "submissions": _titles(
            session, Submission, Submission.title, (r.submission_id for r in records)
        ),
    }


def _matches(record: DutyRecord, text: str) -> bool:
    haystack = (
        record.title,
        record.description,
        record.enterprise_name,
        record.enterprise_uscc or "",
        record.member.name,
    )
    return any(text in value for value in haystack)


@router.get("/cppcc/duties", include_in_schema=False)
def duties_page(
    request: Request,
    user: Viewer,
    year: Annotated[str, Query(max_length=8)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    member: Annotated[str, Query(max_length=20)] = "",
    chain: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app, actor, chain)
        chosen_year = parse_year(year)
        kind_id = parse_choice(kind, DUTY_KIND_NAMES, "履职类型", "kind")
        member_id = parse_id(member, "委员", "member")
        text = q.strip()
        found = duty_service.list_duties(
            session, actor, member_id=member_id, year=chosen_year, kind=kind_id, chain_id=chain_id
        )
        if text:
            found = [r for r in found if _matches(r, text)]
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        own = member_of_user(session, actor.user_id)
        by_kind = {k: sum(1 for r in found if r.kind == k) for k in DUTY_KIND_NAMES}
        this_year = local_today().year
        return render(
            request,
            "cp_duties.html",
            user,
            **cppcc_context(request, user, actor),
            f={
                "year": chosen_year or "",
                "kind": kind_id or "",
                "member": member_id or "",
                "chain": chain_id or "",
                "q": text,
            },
            records=shown,
            total=len(found),
            by_kind=by_kind,
            page=page,
            pages=pages,
            years=list(range(this_year, this_year - 6, -1)),
            kind_names=DUTY_KIND_NAMES,
            members=list_members(session, actor, active=None),
            chains=chain_choices(app, actor, language(request)),
            links=_links(session, shown),
            names=warehouse_names(request, (r.enterprise_uscc for r in shown)),
            state_names=STATE_NAMES,
            group_name=group_name,
            may_create=may_record_any(actor) or may_record_own(actor, own),
        )


def _form_page(
    request: Request,
    user: User,
    form: Mapping[str, Any],
    *,
    record_id: int | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    """The new / edit form; on an error it shows what was typed with the message."""
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        own = member_of_user(session, actor.user_id)
        record = None
        if record_id is not None:
            record = duty_service.get_duty(session, record_id, actor)
            allowed = may_any(actor, Action.edit, duty_service.duty_targets(record))
            choices = [record.member]
        elif may_record_any(actor):
            allowed = True
            choices = list_members(session, actor)
        else:
            allowed = may_record_own(actor, own)
            choices = [own] if own is not None else []
        lang = language(request)
        return render(
            request,
            "cp_duty_form.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            form=form,
            record=record,
            error=error,
            allowed=allowed,
            member_fixed=record is not None or not may_record_any(actor),
            member_choices=choices,
            own_member=own,
            kind_names=DUTY_KIND_NAMES,
            chains=chain_choices(app, actor, lang),
            meetings=list_consultations(session, actor)[:MEETING_CHOICES],
            group_name=group_name,
        )


@router.get("/cppcc/duties/new", include_in_schema=False)
def new_duty(
    request: Request,
    user: Viewer,
    kind: Annotated[str, Query(max_length=32)] = "",
    member: Annotated[str, Query(max_length=20)] = "",
    chain: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app_state(request), actor, chain)
        kind_id = parse_choice(kind, DUTY_KIND_NAMES, "履职类型", "kind") or DutyKind.visit.value
        member_id = parse_id(member, "委员", "member")
        own = member_of_user(session, actor.user_id)
        if not may_record_any(actor) and own is not None:
            member_id = own.id
    defaults = {
        "member_id": member_id or "",
        "kind": kind_id,
        "done_on": local_today().isoformat(),
        "chain_ids": [chain_id] if chain_id else [],
    }
    return _form_page(request, user, defaults)


@router.post("/cppcc/duties", include_in_schema=False)
def create_duty(request: Request, user: Viewer, form: Annotated[DutyForm, Form()]) -> Response:
    app = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            if not may_record_any(actor) and not may_record_own(
                actor, member_of_user(session, actor.user_id)
            ):
                raise NotAllowed(actor, Action.create, Target(Kind.duty_record))
            member_id = parse_id(form.member_id, "委员", "member")
            if member_id is None:
                raise UserError("请选择委员", "choose the member")
            enterprise_name = form.enterprise_name
            if form.enterprise_uscc.strip() and not enterprise_name.strip():
                # a code the warehouse knows fills in the registered name
                code = form.enterprise_uscc.strip().upper()
                enterprise_name = warehouse_names(request, [code]).get(code, "")
            record = duty_service.add_duty(
                session,
                actor,
                member_id=member_id,
                kind=form.kind,
                done_on=_required_day(form.done_on),
                title=form.title,
                description=form.description,
                enterprise_name=enterprise_name,
                enterprise_uscc=form.enterprise_uscc or None,
                case_id=parse_id(form.case_id, "关联诉求编号", "linked case"),
                consultation_id=parse_id(form.consultation_id, "关联协商会议", "consultation"),
                submission_id=parse_id(form.submission_id, "关联提案编号", "linked proposal"),
                chain_ids=form.chain_ids,
                chains=app.atlas,
            )
            record_id = record.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/duties/{record_id}", status_code=303)


def _record_values(record: DutyRecord) -> dict[str, Any]:
    return {
        "member_id": record.member_id,
        "kind": record.kind,
        "done_on": record.done_on.isoformat(),
        "title": record.title,
        "description": record.description,
        "enterprise_name": record.enterprise_name,
        "enterprise_uscc": record.enterprise_uscc or "",
        "chain_ids": record.chain_ids,
        "case_id": record.case_id or "",
        "consultation_id": record.consultation_id or "",
        "submission_id": record.submission_id or "",
        "version": record.version,
    }


def _duty_page(
    request: Request,
    user: User,
    duty_id: int,
    *,
    error: str = "",
    status_code: int = 200,
    case_form: Mapping[str, Any] | None = None,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        record = duty_service.get_duty(session, duty_id, actor)
        found = duty_service.duty_targets(record)
        lang = language(request)
        # the case is raised on one of the visit's chains the actor may raise cases on
        case_chains = [
            (cid, cname)
            for cid, cname in chain_choices(app, actor, lang)
            if may(actor, Action.create, Target(Kind.case, chain_id=cid))
        ]
        own_chains = [c for c in case_chains if c[0] in record.chain_ids]
        may_raise = record.kind == DutyKind.visit and record.case_id is None and bool(case_chains)
        default_chain = (own_chains or case_chains or [("", "")])[0][0]
        chosen_chain = str((case_form or {}).get("chain_id") or default_chain)
        return render(
            request,
            "cp_duty.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            record=record,
            links=_links(session, [record]),
            names=warehouse_names(request, [record.enterprise_uscc]),
            may_edit=may_any(actor, Action.edit, found),
            may_raise=may_raise,
            may_assign=may_anywhere(actor, Kind.case, Action.assign),
            case_chains=own_chains + [c for c in case_chains if c not in own_chains],
            case_form=case_form or {"chain_id": chosen_chain, "category": "other"},
            unit_groups=units_for_chain(session, chosen_chain or None),
            kind_names=DUTY_KIND_NAMES,
            state_names=STATE_NAMES,
            category_names=CATEGORY_NAMES,
            group_name=group_name,
            error=error,
        )


@router.get("/cppcc/duties/{duty_id}", include_in_schema=False)
def duty_page(request: Request, user: Viewer, duty_id: DutyId) -> Response:
    return _duty_page(request, user, duty_id)


@router.get("/cppcc/duties/{duty_id}/edit", include_in_schema=False)
def edit_duty_page(request: Request, user: Viewer, duty_id: DutyId) -> Response:
    with workflow_session(request, user) as (session, actor):
        record = duty_service.get_duty(session, duty_id, actor)
        require_any(actor, Action.edit, duty_service.duty_targets(record))
        values = _record_values(record)
    return _form_page(request, user, values, record_id=duty_id)


@router.post("/cppcc/duties/{duty_id}", include_in_schema=False)
def save_duty(
    request: Request, user: Viewer, duty_id: DutyId, form: Annotated[DutyForm, Form()]
) -> Response:
    app = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            duty_service.update_duty(
                session,
                actor,
                duty_id,
                expected_version=parse_id(form.version, "版本", "version"),
                kind=form.kind,
                done_on=_required_day(form.done_on),
                title=form.title,
                description=form.description,
                enterprise_name=form.enterprise_name,
                enterprise_uscc=form.enterprise_uscc,
                chain_ids=form.chain_ids,
                case_id=parse_id(form.case_id, "关联诉求编号", "linked case"),
                consultation_id=parse_id(form.consultation_id, "关联协商会议", "consultation"),
                submission_id=parse_id(form.submission_id, "关联提案编号", "linked proposal"),
                chains=app.atlas,
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            record_id=duty_id,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/duties/{duty_id}", status_code=303)


def _act(
    request: Request,
    user: User,
    duty_id: int,
    change: Callable[[Session, Actor], str],
    case_form: Mapping[str, Any] | None = None,
) -> Response:
    """Run one change on the record's page; a conflict or a form error shows the page again
    with the message (409 / 422) and nothing changed; a refusal is a 403."""
    try:
        with workflow_session(request, user) as (session, actor):
            target = change(session, actor)
    except UserError as exc:
        reraise_refusal(exc)
        return _duty_page(
            request,
            user,
            duty_id,
            error=message(request, exc),
            status_code=failure_status(exc),
            case_form=case_form,
        )
    return RedirectResponse(target, status_code=303)


@router.post("/cppcc/duties/{duty_id}/delete", include_in_schema=False)
def delete_duty(
    request: Request, user: Viewer, duty_id: DutyId, form: Annotated[DutyForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor) -> str:
        duty_service.delete_duty(
            session,
            actor,
            duty_id,
            expected_version=parse_id(form.version, "版本", "version"),
            reason=form.reason,
        )
        return "/cppcc/duties"

    return _act(request, user, duty_id, change)


@router.post("/cppcc/duties/{duty_id}/case", include_in_schema=False)
def raise_case(
    request: Request, user: Viewer, duty_id: DutyId, form: Annotated[VisitCaseForm, Form()]
) -> Response:
    app = app_state(request)

    def change(session: Session, actor: Actor) -> str:
        # refused before the form is checked: the member sees no such form
        require_anywhere(actor, Kind.case, Action.create)
        check_chain(app, actor, form.chain_id)
        duty_service.raise_case_from_visit(
            session,
            actor,
            duty_id,
            title=form.title,
            category=form.category,
            chain_id=form.chain_id,
            description=form.description,
            unit_id=parse_id(form.unit_id, "责任单位", "responsible unit"),
            deadline=parse_day(form.deadline, "办理期限", "deadline"),
            expected_version=parse_id(form.version, "版本", "version"),
            chains=app.atlas,
        )
        return f"/cppcc/duties/{duty_id}#case"

    return _act(request, user, duty_id, change, case_form=form.model_dump())
