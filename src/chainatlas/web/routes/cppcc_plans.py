"""协商计划 (yearly consultation plans): the plans by year, a plan's topics by kind (专题 /
对口 / 界别 / 双月协商) with the month, chain and lead of each and the meetings held for it,
and the forms that add, change and remove topics. Changes go through `cppcc.plans`, which
checks the access rules (the CPPCC staff edit, others read), locks optimistically (the plan's
`version`) and audits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.cppcc import plans as plan_service
from chainatlas.cppcc.models import PlanTopic
from chainatlas.cppcc.vocabulary import CONSULTATION_KIND_NAMES
from chainatlas.errors import UserError
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._cppcc_meeting_form import parse_year
from chainatlas.web.routes._workflow import (
    apply_change,
    chain_choices,
    check_chain,
    failure_status,
    form_version,
    message,
    require_anywhere,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow.access import Action, Actor, Kind, Target, may
from chainatlas.workflow.edits import local_today

router = APIRouter(prefix="/cppcc/plans")
TARGET = Target(Kind.consultation_plan)


class PlanForm(BaseModel):
    year: str = Field("", max_length=8)
    title: str = Field("", max_length=1000)
    region_code: str = Field("", max_length=20)
    note: str = Field("", max_length=10000)
    version: str = Field("", max_length=20)


class TopicForm(BaseModel):
    kind: str = Field("", max_length=32)
    topic: str = Field("", max_length=1000)
    chain_id: str = Field("", max_length=100)
    planned_month: str = Field("", max_length=4)
    lead: str = Field("", max_length=1000)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


def parse_month(value: str) -> int | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= 12:
        raise UserError(
            f"「计划月份」无效：{cleaned}（应为 1–12）", f"'planned month': {cleaned} (1–12)"
        )
    return int(cleaned)


def _topic_in(request: Request, actor: Actor, form: TopicForm) -> plan_service.TopicIn:
    return plan_service.TopicIn(
        kind=form.kind,
        topic=form.topic,
        chain_id=check_chain(app_state(request), actor, form.chain_id),
        planned_month=parse_month(form.planned_month),
        lead=form.lead,
        note=form.note,
    )


def _list_page(
    request: Request,
    user: User,
    *,
    form: Mapping[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (session, actor):
        plans = plan_service.list_plans(session, actor)
        progress = {p.id: plan_service.plan_progress(session, actor, p.id) for p in plans}
        return render(
            request,
            "cp_plans.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            plans=plans,
            held={pid: sum(1 for t in rows if t.held) for pid, rows in progress.items()},
            may_create=may(actor, Action.create, TARGET),
            form=form or {"year": local_today().year},
            error=error,
        )


@router.get("", include_in_schema=False)
def plans_page(request: Request, user: Viewer) -> Response:
    return _list_page(request, user)


@router.post("", include_in_schema=False)
def create_plan(request: Request, user: Viewer, form: Annotated[PlanForm, Form()]) -> Response:
    try:
        year = parse_year(form.year)
        if year is None:
            raise UserError("请填写「年度」", "'year' is required")
        with workflow_session(request, user) as (session, actor):
            plan = plan_service.create_plan(
                session,
                actor,
                year,
                title=form.title,
                region_code=form.region_code,
                note=form.note,
            )
            plan_id = plan.id
    except UserError as exc:
        reraise_refusal(exc)
        return _list_page(
            request,
            user,
            form=form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/plans/{plan_id}", status_code=303)


def _plan_page(
    request: Request,
    user: User,
    plan_id: int,
    *,
    error: str = "",
    status_code: int = 200,
    section: str = "",
    posted: Mapping[str, Any] | None = None,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        # a role that may see no plan at all is refused before the id is looked up
        require_anywhere(actor, Kind.consultation_plan, Action.view)
        plan = plan_service.get_plan(session, plan_id, actor)
        progress = plan_service.plan_progress(session, actor, plan_id)
        by_kind = {
            kind: [row for row in progress if row.topic.kind == kind]
            for kind in plan_service.PLANNED_KIND_NAMES
        }
        return render(
            request,
            "cp_plan.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            plan=plan,
            by_kind=by_kind,
            held=sum(1 for row in progress if row.held),
            kind_names=plan_service.PLANNED_KIND_NAMES,
            all_kind_names=CONSULTATION_KIND_NAMES,
            may_edit=may(actor, Action.edit, TARGET),
            may_hold=may(actor, Action.create, Target(Kind.consultation)),
            chains=chain_choices(app, actor, language(request)),
            error=error,
            section=section,
            posted=posted or {},
        )


@router.get("/{plan_id}", include_in_schema=False)
def plan_page(request: Request, user: Viewer, plan_id: int) -> Response:
    return _plan_page(request, user, plan_id)


def _change(
    request: Request,
    user: User,
    plan_id: int,
    form: BaseModel,
    section: str,
    change: Callable[[Session, Actor, int | None], Any],
    anchor: str = "",
) -> Response:
    """Run one change; a conflict or a form error shows the plan again with the message
    (409 / 422) and what was typed, nothing changed; a refusal is a 403."""
    return apply_change(
        request,
        user,
        lambda session, actor: change(session, actor, form_version(form)),
        done=f"/cppcc/plans/{plan_id}{anchor}",
        failed=lambda error, status: _plan_page(
            request,
            user,
            plan_id,
            error=error,
            status_code=status,
            section=section,
            posted=form.model_dump(),
        ),
    )


@router.post("/{plan_id}/edit", include_in_schema=False)
def edit_plan(
    request: Request, user: Viewer, plan_id: int, form: Annotated[PlanForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return plan_service.update_plan(
            session, actor, plan_id, expected_version=version, title=form.title, note=form.note
        )

    return _change(request, user, plan_id, form, "plan", change)


@router.post("/{plan_id}/topics", include_in_schema=False)
def add_topic(
    request: Request, user: Viewer, plan_id: int, form: Annotated[TopicForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return plan_service.add_plan_topic(
            session,
            actor,
            plan_id,
            _topic_in(request, actor, form),
            expected_version=version,
            chains=app_state(request).atlas,
        )

    return _change(request, user, plan_id, form, "add", change, "#topics")


def _topic_of_plan(session: Session, plan_id: int, topic_id: int) -> PlanTopic:
    topic = session.get(PlanTopic, topic_id)
    if topic is None or topic.plan_id != plan_id:
        raise UserError(
            f"协商计划 {plan_id} 中没有编号为 {topic_id} 的议题",
            f"plan {plan_id} has no topic with id {topic_id}",
        )
    return topic


@router.post("/{plan_id}/topics/{topic_id}/edit", include_in_schema=False)
def edit_topic(
    request: Request,
    user: Viewer,
    plan_id: int,
    topic_id: int,
    form: Annotated[TopicForm, Form()],
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        _topic_of_plan(session, plan_id, topic_id)
        return plan_service.update_plan_topic(
            session,
            actor,
            topic_id,
            _topic_in(request, actor, form),
            expected_version=version,
            chains=app_state(request).atlas,
        )

    return _change(request, user, plan_id, form, f"topic-{topic_id}", change, f"#topic-{topic_id}")


@router.post("/{plan_id}/topics/{topic_id}/remove", include_in_schema=False)
def remove_topic(
    request: Request,
    user: Viewer,
    plan_id: int,
    topic_id: int,
    form: Annotated[TopicForm, Form()],
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        _topic_of_plan(session, plan_id, topic_id)
        plan_service.remove_plan_topic(session, actor, topic_id, expected_version=version)

    return _change(request, user, plan_id, form, "", change, "#topics")
