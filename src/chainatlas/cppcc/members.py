"""The roster of CPPCC members (政协委员): name, party or sector, position, employer, and the
account a member logs in with (its duty records and proposals are then its own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.accounts.models import User
from chainatlas.cppcc.groups import check_group
from chainatlas.cppcc.models import Member
from chainatlas.cppcc.permissions import visible
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor, Kind, Target, require
from chainatlas.workflow.edits import audit, check_version, flush, text

_FIELDS: dict[str, tuple[int, str, str]] = {
    "name": (64, "委员姓名", "member name"),
    "title": (128, "政协职务", "CPPCC position"),
    "employer": (200, "工作单位及职务", "employer and position"),
    "phone": (32, "联系电话", "phone"),
    "note": (2000, "备注", "note"),
}


def get_member(session: Session, member_id: int, actor: Actor | None = None) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise UserError(f"没有编号为 {member_id} 的委员", f"no CPPCC member with id {member_id}")
    if actor is not None:
        require(actor, Action.view, Target(Kind.cppcc_member, owner_id=member.user_id))
    return member


def member_of_user(session: Session, user_id: int | None) -> Member | None:
    if user_id is None:
        return None
    return session.scalar(select(Member).where(Member.user_id == user_id))


def _user(session: Session, user_id: int | None, member_id: int | None = None) -> int | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"没有编号为 {user_id} 的用户", f"no user with id {user_id}")
    other = member_of_user(session, user_id)
    if other is not None and other.id != member_id:
        raise UserError(
            f"账号 {user.username} 已关联委员「{other.name}」",
            f"account {user.username} is already linked to member {other.name!r}",
        )
    return user.id


def add_member(
    session: Session,
    actor: Actor,
    name: str,
    group: str | None = None,
    *,
    title: str = "",
    employer: str = "",
    phone: str = "",
    user_id: int | None = None,
    note: str = "",
) -> Member:
    """A member; `group` is a party or sector id or name from `groups.GROUPS`."""
    require(actor, Action.create, Target(Kind.cppcc_member))
    values = {"name": name, "title": title, "employer": employer, "phone": phone, "note": note}
    cleaned = {k: text(v, *_FIELDS[k], required=k == "name") for k, v in values.items()}
    member = Member(
        **cleaned,
        group_id=check_group(group, "所属党派或界别", "party or sector"),
        user_id=_user(session, user_id),
        active=True,
    )
    session.add(member)
    flush(session)
    audit(
        session,
        actor,
        "cppcc.member.add",
        f"cppcc_member:{member.id}",
        {"name": member.name, "group": member.group_id, "user_id": member.user_id},
    )
    return member


def update_member(
    session: Session,
    actor: Actor,
    member_id: int,
    *,
    expected_version: int | None,
    name: str | None = None,
    group: str | None = None,
    title: str | None = None,
    employer: str | None = None,
    phone: str | None = None,
    note: str | None = None,
    active: bool | None = None,
) -> Member:
    """Edit a member (`group=""` clears the party or sector)."""
    member = get_member(session, member_id)
    require(actor, Action.edit, Target(Kind.cppcc_member, owner_id=member.user_id))
    check_version(member, expected_version, "该委员信息", "this member")
    changed: dict[str, Any] = {}
    given = {"name": name, "title": title, "employer": employer, "phone": phone, "note": note}
    for key, value in given.items():
        if value is not None:
            cleaned = text(value, *_FIELDS[key], required=key == "name")
            if cleaned != getattr(member, key):
                changed[key] = cleaned
    if group is not None:
        group_id = check_group(group, "所属党派或界别", "party or sector")
        if group_id != member.group_id:
            changed["group_id"] = group_id
    if active is not None and active != member.active:
        changed["active"] = active
    if changed:
        for key, value in changed.items():
            setattr(member, key, value)
        flush(session, "该委员信息", "this member")
        audit(session, actor, "cppcc.member.edit", f"cppcc_member:{member.id}", changed)
    return member


def link_user(
    session: Session,
    actor: Actor,
    member_id: int,
    user_id: int | None,
    *,
    expected_version: int | None,
) -> Member:
    """Link the member to the account it logs in with (None: unlink)."""
    member = get_member(session, member_id)
    require(actor, Action.edit, Target(Kind.cppcc_member, owner_id=member.user_id))
    check_version(member, expected_version, "该委员信息", "this member")
    linked = _user(session, user_id, member.id)
    if linked != member.user_id:
        before = member.user_id
        member.user_id = linked
        flush(session, "该委员信息", "this member")
        audit(
            session,
            actor,
            "cppcc.member.user",
            f"cppcc_member:{member.id}",
            {"from": before, "to": linked},
        )
    return member


def list_members(
    session: Session,
    actor: Actor,
    *,
    active: bool | None = True,
    group_id: str | None = None,
) -> list[Member]:
    query = select(Member).where(
        visible(actor, Kind.cppcc_member, owner=lambda uid: Member.user_id == uid)
    )
    if active is not None:
        query = query.where(Member.active.is_(active))
    if group_id is not None:
        query = query.where(Member.group_id == group_id)
    return list(session.scalars(query.order_by(Member.name, Member.id)))
