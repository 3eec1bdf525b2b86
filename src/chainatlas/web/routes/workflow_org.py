"""组织 (链长制组织架构), for every user as the access table allows (scoped roles: their
chains): per chain its chain chiefs, chain office and member units; the units with their
contacts; the users in each unit. Changes go through `workflow.organisation`, which checks the access rules (a chain
office edits its own chains and its own unit; only user managers put users in units),
locks unit edits optimistically and audits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, allows
from chainatlas.accounts.service import list_users
from chainatlas.errors import UserError
from chainatlas.web.routes._workflow import (
    RowId,
    apply_change,
    chain_choices,
    check_chain,
    is_scoped,
    page_context,
    parse_id,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow import organisation as org
from chainatlas.workflow.access import Action, Actor, Kind, Target, may
from chainatlas.workflow.models import ChainChief, ChainUnit

router = APIRouter(prefix="/org")


class UnitForm(BaseModel):
    name: str = Field("", max_length=1000)
    kind: str = Field("member_unit", max_length=32)
    contact_person: str = Field("", max_length=1000)
    contact_phone: str = Field("", max_length=200)
    contact_email: str = Field("", max_length=1000)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


def _chains_shown(session: Session, actor: Actor, asked: str | None) -> list[str]:
    """The chains the page lays out: the actor's own (scoped roles), else every chain with
    an organisation, plus the one asked for."""
    if is_scoped(actor):
        chains = set(actor.chain_ids)
    else:
        chains = set(session.scalars(select(ChainUnit.chain_id).distinct()))
        chains |= set(session.scalars(select(ChainChief.chain_id).distinct()))
    if asked:
        chains.add(asked)
    return sorted(chains)


def _page(
    request: Request,
    user: User,
    chain: str = "",
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        asked = check_chain(app, actor, chain)
        chains = [c for c in _chains_shown(session, actor, asked) if c in app.atlas]
        units = org.list_units(session)
        users = list_users(session)
        usernames = {u.id: u for u in users}
        served: dict[int, list[tuple[str, str]]] = {u.id: [] for u in units}
        for unit in units:
            served[unit.id] = [(link.chain_id, link.role) for link in unit.chains]
        return render(
            request,
            "wf_org.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            organisations=[org.chain_organisation(session, c) for c in chains],
            may_edit_chain={
                c: may(actor, Action.edit, Target(Kind.chain, chain_id=c)) for c in chains
            },
            units=units,
            may_edit_unit={
                u.id: may(actor, Action.edit, Target(Kind.unit, unit_id=u.id)) for u in units
            },
            may_add_unit=may(actor, Action.create, Target(Kind.unit)),
            may_manage_users=allows(actor.role, Permission.manage_users),
            served=served,
            users=users,
            usernames=usernames,
            unit_kind_names=org.UNIT_KIND_NAMES,
            chain_role_names=org.CHAIN_ROLE_NAMES,
            chains=chain_choices(app, actor, language(request)),
            asked=asked or "",
            error=error,
        )


@router.get("", include_in_schema=False)
def org_page(
    request: Request, user: Viewer, chain: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    return _page(request, user, chain)


def _change(
    request: Request,
    user: User,
    change: Callable[[Session, Actor], Any],
    *,
    chain: str = "",
    anchor: str = "",
) -> Response:
    """Run one change, then back to the page (at `anchor`); a form error shows the page
    again with the message and nothing changed; a refusal is a 403."""
    query = f"?chain={quote(chain, safe='')}" if chain else ""
    return apply_change(
        request,
        user,
        change,
        done=f"/org{query}{anchor}",
        failed=lambda error, status: _page(request, user, chain, error=error, status_code=status),
    )


def _known_chain(request: Request, actor: Actor, chain_id: str) -> str:
    checked = check_chain(app_state(request), actor, chain_id)
    if checked is None:
        raise UserError("请选择产业链", "choose a chain")
    return checked


@router.post("/units", include_in_schema=False)
def add_unit(request: Request, user: Viewer, form: Annotated[UnitForm, Form()]) -> Response:
    def change(session: Session, actor: Actor) -> Any:
        return org.add_unit(
            session,
            actor,
            form.name,
            form.kind,
            contact_person=form.contact_person,
            contact_phone=form.contact_phone,
            contact_email=form.contact_email,
            note=form.note,
        )

    return _change(request, user, change, anchor="#units")


@router.post("/units/{unit_id}", include_in_schema=False)
def edit_unit(
    request: Request, user: Viewer, unit_id: RowId, form: Annotated[UnitForm, Form()]
) -> Response:
    """A unit's name, kind and contacts (联系人、电话、邮箱)."""

    def change(session: Session, actor: Actor) -> Any:
        return org.update_unit(
            session,
            actor,
            unit_id,
            expected_version=parse_id(form.version, "版本", "version"),
            name=form.name or None,
            kind=form.kind or None,
            contact_person=form.contact_person,
            contact_phone=form.contact_phone,
            contact_email=form.contact_email,
            note=form.note,
        )

    return _change(request, user, change, anchor=f"#unit-{unit_id}")


@router.post("/units/{unit_id}/users", include_in_schema=False)
def add_unit_user(
    request: Request,
    user: Viewer,
    unit_id: RowId,
    user_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def change(session: Session, actor: Actor) -> Any:
        member = parse_id(user_id, "用户", "user")
        if member is None:
            raise UserError("请选择「用户」", "choose a user")
        return org.add_unit_user(session, actor, unit_id, member)

    return _change(request, user, change, anchor=f"#unit-{unit_id}")


@router.post("/units/{unit_id}/users/{user_id}/remove", include_in_schema=False)
def remove_unit_user(request: Request, user: Viewer, unit_id: RowId, user_id: RowId) -> Response:
    def change(session: Session, actor: Actor) -> None:
        org.remove_unit_user(session, actor, unit_id, user_id)

    return _change(request, user, change, anchor=f"#unit-{unit_id}")


@router.post("/chains/{chain_id}/units", include_in_schema=False)
def set_chain_unit(
    request: Request,
    user: Viewer,
    chain_id: str,
    unit_id: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=32)] = "member_unit",
) -> Response:
    """Make a unit the chain's office or one of its member units."""

    def change(session: Session, actor: Actor) -> Any:
        chain = _known_chain(request, actor, chain_id)
        unit = parse_id(unit_id, "单位", "unit")
        if unit is None:
            raise UserError("请选择「单位」", "choose a unit")
        return org.set_chain_unit(session, actor, chain, unit, role)

    return _change(request, user, change, chain=chain_id, anchor="#chains")


@router.post("/chains/{chain_id}/units/{unit_id}/remove", include_in_schema=False)
def remove_chain_unit(request: Request, user: Viewer, chain_id: str, unit_id: RowId) -> Response:
    def change(session: Session, actor: Actor) -> None:
        org.remove_chain_unit(session, actor, _known_chain(request, actor, chain_id), unit_id)

    return _change(request, user, change, chain=chain_id, anchor="#chains")


@router.post("/chains/{chain_id}/chiefs", include_in_schema=False)
def add_chief(
    request: Request,
    user: Viewer,
    chain_id: str,
    name: Annotated[str, Form(max_length=1000)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    def change(session: Session, actor: Actor) -> Any:
        chain = _known_chain(request, actor, chain_id)
        return org.add_chain_chief(session, actor, chain, name, title)

    return _change(request, user, change, chain=chain_id, anchor="#chains")


@router.post("/chiefs/{chief_id}/remove", include_in_schema=False)
def remove_chief(request: Request, user: Viewer, chief_id: RowId) -> Response:
    def change(session: Session, actor: Actor) -> None:
        org.remove_chain_chief(session, actor, chief_id)

    return _change(request, user, change, anchor="#chains")
