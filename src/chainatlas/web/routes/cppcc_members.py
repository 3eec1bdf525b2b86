"""委员 (the CPPCC member roster): name, position, party or sector, employer, the account a
member logs in with, active or not; filtered by party or sector. The CPPCC staff add and edit
members and link their accounts; everyone else reads (as the access table allows). Changes
go through `cppcc.members`, which checks the access rules, locks optimistically and audits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import ROLE_NAMES_ZH
from chainatlas.accounts.service import list_users
from chainatlas.cppcc import members as member_service
from chainatlas.cppcc.groups import GROUPS, group_name
from chainatlas.cppcc.models import Member
from chainatlas.errors import UserError
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._cppcc_meeting_form import group_sections
from chainatlas.web.routes._workflow import (
    failure_status,
    message,
    parse_choice,
    parse_id,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.templating import render
from chainatlas.workflow.access import Action, Actor, Kind, Target, may

router = APIRouter(prefix="/cppcc/members")
GROUP_NAMES = {g.id: (g.zh, g.en) for g in GROUPS.values()}
ACTIVE_CHOICES = {"1": ("在任", "active"), "0": ("已离任", "inactive"), "all": ("全部", "all")}


class MemberForm(BaseModel):
    name: str = Field("", max_length=1000)
    group: str = Field("", max_length=64)
    title: str = Field("", max_length=1000)
    employer: str = Field("", max_length=1000)
    phone: str = Field("", max_length=200)
    note: str = Field("", max_length=10000)
    user_id: str = Field("", max_length=20)
    active: str = Field("", max_length=8)  # the edit form's checkbox: "1" when ticked
    version: str = Field("", max_length=20)


def _accounts(session: Session, member_id: int | None = None) -> list[User]:
    """Accounts a member may be linked to: those not linked to another member."""
    taken = {
        uid
        for mid, uid in session.execute(select(Member.id, Member.user_id))
        if uid is not None and mid != member_id
    }
    return [u for u in list_users(session) if u.id not in taken]


def _usernames(session: Session) -> dict[int, str]:
    return {u.id: u.username for u in list_users(session)}


def _may_create(actor: Actor) -> bool:
    return may(actor, Action.create, Target(Kind.cppcc_member))


def _roster(
    request: Request,
    user: User,
    *,
    group: str = "",
    active: str = "1",
    form: Mapping[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (session, actor):
        group_id = parse_choice(group, GROUP_NAMES, "党派或界别", "party or sector")
        shown = parse_choice(active or "1", ACTIVE_CHOICES, "在任情况", "active")
        found = member_service.list_members(
            session,
            actor,
            active=None if shown == "all" else shown == "1",
            group_id=group_id,
        )
        may_create = _may_create(actor)
        return render(
            request,
            "cp_members.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            members=found,
            f={"group": group_id or "", "active": shown},
            group_sections=group_sections(),
            group_name=group_name,
            active_choices=ACTIVE_CHOICES,
            usernames=_usernames(session),
            accounts=_accounts(session) if may_create else [],
            role_names=ROLE_NAMES_ZH,
            may_create=may_create,
            form=form or {},
            error=error,
        )


@router.get("", include_in_schema=False)
def members_page(
    request: Request,
    user: Viewer,
    group: Annotated[str, Query(max_length=64)] = "",
    active: Annotated[str, Query(max_length=8)] = "1",
) -> Response:
    return _roster(request, user, group=group, active=active)


@router.post("", include_in_schema=False)
def add_member(request: Request, user: Viewer, form: Annotated[MemberForm, Form()]) -> Response:
    try:
        with workflow_session(request, user) as (session, actor):
            member = member_service.add_member(
                session,
                actor,
                form.name,
                form.group or None,
                title=form.title,
                employer=form.employer,
                phone=form.phone,
                user_id=parse_id(form.user_id, "登录账号", "account"),
                note=form.note,
            )
            member_id = member.id
    except UserError as exc:
        reraise_refusal(exc)
        return _roster(
            request,
            user,
            form=form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/members/{member_id}", status_code=303)


def _member_page(
    request: Request,
    user: User,
    member_id: int,
    *,
    form: Mapping[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (session, actor):
        member = member_service.get_member(session, member_id, actor)
        may_edit = may(actor, Action.edit, Target(Kind.cppcc_member, owner_id=member.user_id))
        values = form or {
            "name": member.name,
            "group": member.group_id or "",
            "title": member.title,
            "employer": member.employer,
            "phone": member.phone,
            "note": member.note,
            "active": "1" if member.active else "",
            "user_id": member.user_id or "",
        }
        return render(
            request,
            "cp_member.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            member=member,
            may_edit=may_edit,
            group_sections=group_sections(),
            group_name=group_name,
            usernames=_usernames(session),
            accounts=_accounts(session, member.id) if may_edit else [],
            role_names=ROLE_NAMES_ZH,
            form=values,
            error=error,
        )


@router.get("/{member_id}", include_in_schema=False)
def member_page(request: Request, user: Viewer, member_id: int) -> Response:
    return _member_page(request, user, member_id)


@router.post("/{member_id}/edit", include_in_schema=False)
def edit_member(
    request: Request, user: Viewer, member_id: int, form: Annotated[MemberForm, Form()]
) -> Response:
    try:
        with workflow_session(request, user) as (session, actor):
            member_service.update_member(
                session,
                actor,
                member_id,
                expected_version=parse_id(form.version, "版本", "version"),
                name=form.name,
                group=form.group,
                title=form.title,
                employer=form.employer,
                phone=form.phone,
                note=form.note,
                active=form.active == "1",
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _member_page(
            request,
            user,
            member_id,
            form=form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/members/{member_id}", status_code=303)


@router.post("/{member_id}/account", include_in_schema=False)
def link_account(
    request: Request, user: Viewer, member_id: int, form: Annotated[MemberForm, Form()]
) -> Response:
    """Link the member to an account ("" unlinks)."""
    try:
        with workflow_session(request, user) as (session, actor):
            member_service.link_user(
                session,
                actor,
                member_id,
                parse_id(form.user_id, "登录账号", "account"),
                expected_version=parse_id(form.version, "版本", "version"),
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _member_page(
            request,
            user,
            member_id,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/members/{member_id}", status_code=303)
