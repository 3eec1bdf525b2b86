"""What the chain-chief pages (链长制: projects, cases, meetings, organisation, KPIs) share:
the user as a workflow `Actor`, the chain checks, form-value parsing that names the field,
the context every page gets (sub-tabs, names in the page's language, China local time)
and the escalation of overdue cases on a chain office's page load."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import SCOPED_ROLES, Permission, Role, allows
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_full_name
from chainatlas.web.security import Forbidden
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import language
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, NotAllowed, Scope, Target, scopes
from chainatlas.workflow.edits import CHINA_OFFSET, EditConflict, local_today
from chainatlas.workflow.models import ChainRole, ChainUnit, Unit
from chainatlas.workflow.organisation import actor_for, list_units

PAGE_SIZE = 50
# a row id in a path: an integer column's range (PostgreSQL INTEGER), so an absurd id is a
# 422 naming the parameter rather than a database overflow
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Tab:
    path: str
    key: str  # message key
    permission: Permission = Permission.view


TABS = (
    Tab("/projects", "wf_tab_projects"),
    Tab("/cases", "wf_tab_cases"),
    Tab("/meetings", "wf_tab_meetings"),
    Tab("/kpis", "wf_tab_kpis"),
    Tab("/org", "wf_tab_org"),
)


@contextmanager
def workflow_session(request: Request, user: User) -> Iterator[tuple[Session, Actor]]:
    """A session (committed on success, rolled back on any error) and the user as an actor."""
    with app_state(request).db.session() as session:
        yield session, actor_for(session, user)


def message(request: Request, exc: UserError) -> str:
    return exc.message_en if language(request) == "en" else exc.message_zh


def failure_status(exc: UserError) -> int:
    """409 for an edit made from a stale copy, 422 for any other form error."""
    return 409 if isinstance(exc, EditConflict) else 422


def reraise_refusal(exc: UserError) -> None:
    """A refusal by the access rules is a 403 page, not a form error shown on the form."""
    if isinstance(exc, NotAllowed):
        raise exc


def form_version(form: object) -> int | None:
    """The row version a form carries (`version`), as the editor last saw it."""
    return parse_id(getattr(form, "version", ""), "版本", "version")


def apply_change(
    request: Request,
    user: User,
    change: Callable[[Session, Actor], Any],
    *,
    done: str,
    failed: Callable[[str, int], Response],
) -> Response:
    """Run one change in its own transaction, then 303 to `done`. A form error or a stale
    edit shows the page again (`failed(message, 422 or 409)`) with nothing changed; a
    refusal by the access rules is a 403."""
    try:
        with workflow_session(request, user) as (session, actor):
            change(session, actor)
    except UserError as exc:
        reraise_refusal(exc)
        return failed(message(request, exc), failure_status(exc))
    return RedirectResponse(done, status_code=303)


def is_scoped(actor: Actor) -> bool:
    return Role(actor.role) in SCOPED_ROLES


def check_chain(state: AppState, actor: Actor, chain: str) -> str | None:
    """The chain a page is asked for ("" → None): known to the atlas, and one of the actor's
    chains for the scoped roles (whose units may add chains to those on the account)."""
    chain = chain.strip()
    if not chain:
        return None
    if chain not in state.atlas:
        raise UserError(
            f"「产业链」无效：没有产业链 {chain}", f"'chain': there is no chain {chain}"
        )
    if is_scoped(actor) and chain not in actor.chain_ids:
        raise Forbidden(f"chain {chain}")
    return chain


def chain_choices(state: AppState, actor: Actor, lang: str) -> list[tuple[str, str]]:
    """(id, name) of the chains the actor works on (every chain for unscoped roles)."""
    return [
        (cid, chain.name_en if lang == "en" and chain.name_en else chain.name_zh)
        for cid, chain in state.atlas.items()
        if not is_scoped(actor) or cid in actor.chain_ids
    ]


def parse_day(value: str, field_zh: str, field_en: str) -> date | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise UserError(
            f"「{field_zh}」无效：{cleaned} 不是日期（应为 2025-05-26 这样的格式）",
            f"'{field_en}': {cleaned} is not a date (use the form 2025-05-26)",
        ) from None


def parse_id(value: str, field_zh: str, field_en: str) -> int | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or len(cleaned) > 12:
        raise UserError(
            f"「{field_zh}」无效：{cleaned} 不是编号", f"'{field_en}': {cleaned} is not an id"
        )
    return int(cleaned)


def parse_choice(
    value: str, allowed: Mapping[str, tuple[str, str]], field_zh: str, field_en: str
) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if cleaned not in allowed:
        raise UserError(
            f"「{field_zh}」无效：{cleaned}（可选：{'、'.join(str(k) for k in allowed)}）",
            f"'{field_en}': {cleaned} is not one of {', '.join(str(k) for k in allowed)}",
        )
    return cleaned


def may_anywhere(actor: Actor, kind: Kind, action: Action) -> bool:
    """Could the actor do `action` on some object of `kind` (e.g. show the 新建 button)?"""
    granted = scopes(actor, kind, action)
    return (
        Scope.any in granted
        or (Scope.chain in granted and bool(actor.chain_ids))
        or (Scope.unit in granted and bool(actor.unit_ids))
    )


def require_anywhere(actor: Actor, kind: Kind, action: Action) -> None:
    if not may_anywhere(actor, kind, action):
        raise NotAllowed(actor, action, Target(kind))


def units_for_chain(session: Session, chain_id: str | None) -> list[tuple[str, list[Unit]]]:
    """Units to pick from, the chain's own member units (and office) first."""
    units = list_units(session)
    if chain_id is None:
        return [("", units)]
    own_ids = set(session.scalars(select(ChainUnit.unit_id).where(ChainUnit.chain_id == chain_id)))
    own = [u for u in units if u.id in own_ids]
    others = [u for u in units if u.id not in own_ids]
    return [("wf_units_of_chain", own), ("wf_units_other", others)] if own else [("", units)]


def chain_member_units(session: Session, chain_id: str) -> set[int]:
    query = select(ChainUnit.unit_id).where(
        ChainUnit.chain_id == chain_id, ChainUnit.role == ChainRole.member_unit.value
    )
    return set(session.scalars(query))


def attachment(title: str, ascii_name: str) -> str:
    """Content-Disposition with the Chinese name (RFC 5987) and an ASCII fallback."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(title, safe='')}"


def escalate_overdue_cases(session: Session, actor: Actor) -> int:
    """A chain office's (or an administrator's) page load escalates the overdue cases of its
    chains not yet escalated: one query when there are none. Two offices loading at once
    may race for the same case; the loser's savepoint is rolled back and its page loads."""
    if Role(actor.role) not in (Role.chain_office, Role.admin):
        return 0
    try:
        with session.begin_nested():
            return len(case_service.escalate_overdue(session, actor, today=local_today()))
    except EditConflict:
        return 0


def local_time(at: datetime | None) -> str:
    """A stored (naive UTC) timestamp as China local time."""
    return "" if at is None else (at + CHINA_OFFSET).strftime("%Y-%m-%d %H:%M")


def page_context(request: Request, user: User, actor: Actor) -> dict[str, Any]:
    """What every chain-chief page's template reads besides `render`'s own context."""
    lang = language(request)
    state = app_state(request)

    def name(pair: tuple[str, str] | None, fallback: str = "") -> str:
        if pair is None:
            return fallback
        return pair[1] if lang == "en" else pair[0]

    def chain_name(chain_id: str | None) -> str:
        chain = state.atlas.get(chain_id or "")
        if chain is None:
            return chain_id or ""
        return chain.name_en if lang == "en" and chain.name_en else chain.name_zh

    def node_name(chain_id: str | None, node_id: str | None) -> str:
        chain = state.atlas.get(chain_id or "")
        if chain is None or not node_id or node_id not in chain.node_ids:
            return node_id or ""
        node = chain.node(node_id)
        return node.name_en if lang == "en" and node.name_en else node.name_zh

    tabs = [tab for tab in TABS if allows(user.role, tab.permission)]
    return {
        "actor": actor,
        "name": name,
        "chain_name": chain_name,
        "node_name": node_name,
        "full_region_name": region_full_name,
        "local_time": local_time,
        "wf_tabs": tabs,
        "today": local_today(),
    }
