"""诉求 (企业诉求 / 堵点 / 难题): the list with its filters (overdue and escalated cases in
red), the form to raise one, and a case's page with its history and the actions this user
may take on it now (assign, start, resolve, confirm, reopen) and its edit form. Every change
goes through `workflow.cases`, which checks the access rules, locks optimistically (the
forms carry the `version` they were loaded with) and audits."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.errors import UserError
from chainatlas.web.routes._workflow import (
    PAGE_SIZE,
    RowId,
    apply_change,
    chain_choices,
    check_chain,
    escalate_overdue_cases,
    failure_status,
    form_version,
    may_anywhere,
    message,
    page_context,
    parse_choice,
    parse_day,
    parse_id,
    reraise_refusal,
    units_for_chain,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, Target, may
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import (
    CATEGORY_NAMES,
    CLOSED_STATES,
    SOURCE_NAMES,
    STATE_NAMES,
    Case,
)
from chainatlas.workflow.organisation import list_units

router = APIRouter()
ACTIONS = (Action.assign, Action.start, Action.resolve, Action.confirm, Action.reopen)


class CaseForm(BaseModel):
    """The case forms as posted: raising one, editing it, and each action."""

    title: str = Field("", max_length=1000)
    description: str = Field("", max_length=10000)
    source: str = Field("", max_length=32)
    category: str = Field("", max_length=32)
    chain_id: str = Field("", max_length=100)
    node_id: str = Field("", max_length=100)
    enterprise_name: str = Field("", max_length=1000)
    enterprise_uscc: str = Field("", max_length=100)
    raised_on: str = Field("", max_length=20)
    unit_id: str = Field("", max_length=20)
    deadline: str = Field("", max_length=20)
    note: str = Field("", max_length=5000)
    resolution: str = Field("", max_length=10000)
    reason: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


def is_red(case: Case, today: date) -> bool:
    """Shown in red: overdue today, or escalated and still not resolved."""
    return case_service.is_overdue(case, today) or (
        case.escalated_at is not None and case.state not in CLOSED_STATES
    )


@router.get("/cases", include_in_schema=False)
def cases_page(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=32)] = "",
    unit: Annotated[str, Query(max_length=20)] = "",
    overdue: Annotated[str, Query(max_length=8)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    app = app_state(request)
    today = local_today()
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app, actor, chain)
        state_id = parse_choice(state, STATE_NAMES, "状态", "state")
        unit_id = parse_id(unit, "责任单位", "unit")
        only_overdue = overdue in ("1", "true", "on")
        escalate_overdue_cases(session, actor)
        found = case_service.list_cases(
            session,
            actor,
            chain_id=chain_id,
            state=state_id,
            unit_id=unit_id,
            overdue_on=today if only_overdue else None,
        )
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        red = [c for c in found if is_red(c, today)]
        return render(
            request,
            "wf_cases.html",
            user,
            **page_context(request, user, actor),
            f={
                "chain": chain_id or "",
                "state": state_id or "",
                "unit": unit_id or "",
                "overdue": "1" if only_overdue else "",
            },
            cases=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            total=len(found),
            red_total=len(red),
            open_total=sum(1 for c in found if c.state not in CLOSED_STATES),
            page=page,
            pages=pages,
            is_red=is_red,
            is_overdue=case_service.is_overdue,
            state_names=STATE_NAMES,
            category_names=CATEGORY_NAMES,
            chains=chain_choices(app, actor, language(request)),
            units=list_units(session),
            may_create=may_anywhere(actor, Kind.case, Action.create),
        )


def _form_page(
    request: Request,
    user: User,
    form: Mapping[str, Any],
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = str(form.get("chain_id") or "") or None
        return render(
            request,
            "wf_case_form.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            form=form,
            error=error,
            allowed=may_anywhere(actor, Kind.case, Action.create),
            may_assign=may_anywhere(actor, Kind.case, Action.assign),
            chains=chain_choices(app, actor, language(request)),
            unit_groups=units_for_chain(session, chain_id),
            source_names=SOURCE_NAMES,
            category_names=CATEGORY_NAMES,
        )


@router.get("/cases/new", include_in_schema=False)
def new_case(
    request: Request, user: Viewer, chain: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    with workflow_session(request, user) as (_session, actor):
        chain_id = check_chain(app_state(request), actor, chain)
    defaults = {
        "chain_id": chain_id or "",
        "source": "enterprise",
        "category": "other",
        "raised_on": local_today().isoformat(),
    }
    return _form_page(request, user, defaults)


@router.post("/cases", include_in_schema=False)
def create_case(request: Request, user: Viewer, form: Annotated[CaseForm, Form()]) -> Response:
    app = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            case = case_service.add_case(
                session,
                actor,
                title=form.title,
                source=form.source,
                category=form.category,
                chain_id=form.chain_id,
                node_id=form.node_id or None,
                enterprise_name=form.enterprise_name,
                enterprise_uscc=form.enterprise_uscc or None,
                description=form.description,
                raised_on=parse_day(form.raised_on, "提出日期", "date raised"),
                unit_id=parse_id(form.unit_id, "责任单位", "responsible unit"),
                deadline=parse_day(form.deadline, "办理期限", "deadline"),
                note=form.note,
                chains=app.atlas,
            )
            case_id = case.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _history_detail(detail: str) -> dict[str, Any]:
    try:
        value = json.loads(detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _case_page(
    request: Request,
    user: User,
    case_id: RowId,
    *,
    error: str = "",
    status_code: int = 200,
    form: Mapping[str, Any] | None = None,
) -> Response:
    today = local_today()
    with workflow_session(request, user) as (session, actor):
        case = case_service.get_case(session, case_id, actor)
        target = Target(Kind.case, chain_id=case.chain_id, unit_id=case.unit_id)
        return render(
            request,
            "wf_case.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            case=case,
            actions=[a.value for a in case_service.case_actions(actor, case)],
            action_names=case_service.ACTION_NAMES,
            may_edit=may(actor, Action.edit, target),
            red=is_red(case, today),
            overdue_days=(today - case.deadline).days
            if case_service.is_overdue(case, today) and case.deadline
            else 0,
            state_names=STATE_NAMES,
            source_names=SOURCE_NAMES,
            category_names=CATEGORY_NAMES,
            unit_groups=units_for_chain(session, case.chain_id),
            history_detail=_history_detail,
            error=error,
            form=form or {},
        )


@router.get("/cases/{case_id}", include_in_schema=False)
def case_page(request: Request, user: Viewer, case_id: RowId) -> Response:
    return _case_page(request, user, case_id)


def _act(
    request: Request,
    user: User,
    case_id: RowId,
    form: CaseForm,
    change: Callable[[Session, Actor, int | None], Any],
) -> Response:
    """Run one change; a conflict or a form error shows the case page again with the
    message (409 / 422) and nothing changed; a refusal is a 403."""
    return apply_change(
        request,
        user,
        lambda session, actor: change(session, actor, form_version(form)),
        done=f"/cases/{case_id}",
        failed=lambda error, status: _case_page(
            request, user, case_id, error=error, status_code=status, form=form.model_dump()
        ),
    )


@router.post("/cases/{case_id}/assign", include_in_schema=False)
def assign(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.assign_case(
            session,
            actor,
            case_id,
            expected_version=version,
            unit_id=parse_id(form.unit_id, "责任单位", "responsible unit"),
            deadline=parse_day(form.deadline, "办理期限", "deadline"),
            note=form.note,
        )

    return _act(request, user, case_id, form, change)


@router.post("/cases/{case_id}/start", include_in_schema=False)
def start(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.start_case(
            session, actor, case_id, expected_version=version, note=form.note
        )

    return _act(request, user, case_id, form, change)


@router.post("/cases/{case_id}/resolve", include_in_schema=False)
def resolve(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.resolve_case(
            session, actor, case_id, expected_version=version, resolution=form.resolution
        )

    return _act(request, user, case_id, form, change)


@router.post("/cases/{case_id}/confirm", include_in_schema=False)
def confirm(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.confirm_case(
            session, actor, case_id, expected_version=version, note=form.note
        )

    return _act(request, user, case_id, form, change)


@router.post("/cases/{case_id}/reopen", include_in_schema=False)
def reopen(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.reopen_case(
            session, actor, case_id, expected_version=version, reason=form.reason
        )

    return _act(request, user, case_id, form, change)


@router.post("/cases/{case_id}/edit", include_in_schema=False)
def edit(
    request: Request, user: Viewer, case_id: RowId, form: Annotated[CaseForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return case_service.update_case(
            session,
            actor,
            case_id,
            expected_version=version,
            title=form.title,
            description=form.description,
            enterprise_name=form.enterprise_name,
            enterprise_uscc=form.enterprise_uscc,
            category=form.category or None,
            note=form.note,
        )

    return _act(request, user, case_id, form, change)
