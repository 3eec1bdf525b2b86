"""Organisation of the chain-chief system: units and their contacts, which units serve which
chain (one chain office, any number of member units), the chain chiefs, and which users
belong to which units. `actor_for` turns a logged-in user into the `Actor` the access rules
read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, Role, allows
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor, Kind, NotAllowed, Target, require
from chainatlas.workflow.edits import audit, check_version, choice, flush, text
from chainatlas.workflow.models import ChainChief, ChainRole, ChainUnit, Unit, UnitKind, UnitUser

UNIT_KIND_NAMES: dict[str, tuple[str, str]] = {
    UnitKind.chain_office: ("链长办", "chain office"),
    UnitKind.member_unit: ("成员单位", "member unit"),
    UnitKind.other: ("其他", "other"),
}
CHAIN_ROLE_NAMES: dict[str, tuple[str, str]] = {
    ChainRole.chain_office: ("链长办", "chain office"),
    ChainRole.member_unit: ("成员单位", "member unit"),
}
_UNIT_FIELDS: dict[str, tuple[int, str, str]] = {
    "contact_person": (64, "联系人", "contact person"),
    "contact_phone": (32, "联系电话", "contact phone"),
    "contact_email": (128, "电子邮箱", "contact e-mail"),
    "note": (2000, "备注", "note"),
}


@dataclass(frozen=True)
class ChainOrganisation:
    chain_id: str
    chiefs: list[ChainChief]
    office: Unit | None
    members: list[Unit]


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UserError(f"没有编号为 {unit_id} 的单位", f"no unit with id {unit_id}")
    return unit


def find_unit(session: Session, name: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.name == name.strip()))


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.name)))


def _unit_name(session: Session, name: str, unit_id: int | None = None) -> str:
    cleaned = text(name, 128, "单位名称", "unit name", required=True)
    other = find_unit(session, cleaned)
    if other is not None and other.id != unit_id:
        raise UserError(f"单位「{cleaned}」已存在", f"unit {cleaned!r} already exists")
    return cleaned


def add_unit(
    session: Session,
    actor: Actor,
    name: str,
    kind: str = UnitKind.member_unit.value,
    *,
    contact_person: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    note: str = "",
) -> Unit:
    require(actor, Action.create, Target(Kind.unit))
    values = {"contact_person": contact_person, "contact_phone": contact_phone}
    values |= {"contact_email": contact_email, "note": note}
    unit = Unit(
        name=_unit_name(session, name),
        kind=choice(kind, UNIT_KIND_NAMES, "单位类型", "unit kind"),
        **{k: text(v, *_UNIT_FIELDS[k], required=False) for k, v in values.items()},
    )
    session.add(unit)
    flush(session)
    audit(session, actor, "unit.add", f"unit:{unit.id}", {"name": unit.name, "kind": unit.kind})
    return unit


def update_unit(
    session: Session,
    actor: Actor,
    unit_id: int,
    *,
    expected_version: int | None,
    name: str | None = None,
    kind: str | None = None,
    contact_person: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    note: str | None = None,
) -> Unit:
    unit = get_unit(session, unit_id)
    require(actor, Action.edit, Target(Kind.unit, unit_id=unit.id))
    check_version(unit, expected_version, "该单位", "this unit")
    changed: dict[str, object] = {}
    if name is not None and name.strip() != unit.name:
        changed["name"] = unit.name = _unit_name(session, name, unit.id)
    if kind is not None and kind != unit.kind:
        changed["kind"] = unit.kind = choice(kind, UNIT_KIND_NAMES, "单位类型", "unit kind")
    values = {"contact_person": contact_person, "contact_phone": contact_phone}
    values |= {"contact_email": contact_email, "note": note}
    for key, value in values.items():
        if value is not None:
            cleaned = text(value, *_UNIT_FIELDS[key], required=False)
            if cleaned != getattr(unit, key):
                setattr(unit, key, cleaned)
                changed[key] = cleaned
    if changed:
        flush(session, "该单位", "this unit")
        audit(session, actor, "unit.edit", f"unit:{unit.id}", changed)
    return unit


def _chain_id(chain_id: str) -> str:
    return text(chain_id, 64, "产业链", "chain", required=True)


def set_chain_unit(
    session: Session, actor: Actor, chain_id: str, unit_id: int, role: str
) -> ChainUnit:
    """Make the unit the chain's office or one of its member units (a chain has one office)."""
    chain_id = _chain_id(chain_id)
    require(actor, Action.edit, Target(Kind.chain, chain_id=chain_id))
    role = choice(role, CHAIN_ROLE_NAMES, "单位角色", "unit role")
    unit = get_unit(session, unit_id)
    if role == ChainRole.chain_office:
        office = session.scalar(
            select(ChainUnit).where(
                ChainUnit.chain_id == chain_id,
                ChainUnit.role == ChainRole.chain_office.value,
                ChainUnit.unit_id != unit.id,
            )
        )
        if office is not None:
            raise UserError(
                f"产业链 {chain_id} 已有链长办「{office.unit.name}」；请先移除",
                f"chain {chain_id} already has a chain office ({office.unit.name}); remove it first",
            )
    link = session.get(ChainUnit, (chain_id, unit.id))
    if link is None:
        link = ChainUnit(chain_id=chain_id, unit_id=unit.id, role=role)
        session.add(link)
    else:
        link.role = role
    flush(session)
    audit(session, actor, "chain.unit", f"chain:{chain_id}", {"unit": unit.name, "role": role})
    return link


def remove_chain_unit(session: Session, actor: Actor, chain_id: str, unit_id: int) -> None:
    require(actor, Action.edit, Target(Kind.chain, chain_id=chain_id))
    link = session.get(ChainUnit, (chain_id, unit_id))
    if link is None:
        raise UserError(
            f"单位 {unit_id} 不服务于产业链 {chain_id}",
            f"unit {unit_id} does not serve chain {chain_id}",
        )
    name = link.unit.name
    session.delete(link)
    flush(session)
    audit(session, actor, "chain.unit_remove", f"chain:{chain_id}", {"unit": name})


def add_chain_chief(
    session: Session, actor: Actor, chain_id: str, name: str, title: str = ""
) -> ChainChief:
    chain_id = _chain_id(chain_id)
    require(actor, Action.edit, Target(Kind.chain, chain_id=chain_id))
    count = len(chain_chiefs(session, chain_id))
    chief = ChainChief(
        chain_id=chain_id,
        name=text(name, 64, "链长姓名", "chain chief's name", required=True),
        title=text(title, 128, "职务", "title", required=False),
        position=count,
    )
    session.add(chief)
    flush(session)
    audit(session, actor, "chain.chief", f"chain:{chain_id}", {"name": chief.name})
    return chief


def remove_chain_chief(session: Session, actor: Actor, chief_id: int) -> None:
    chief = session.get(ChainChief, chief_id)
    if chief is None:
        raise UserError(f"没有编号为 {chief_id} 的链长", f"no chain chief with id {chief_id}")
    require(actor, Action.edit, Target(Kind.chain, chain_id=chief.chain_id))
    session.delete(chief)
    flush(session)
    audit(session, actor, "chain.chief_remove", f"chain:{chief.chain_id}", {"name": chief.name})


def chain_chiefs(session: Session, chain_id: str) -> list[ChainChief]:
    query = select(ChainChief).where(ChainChief.chain_id == chain_id)
    return list(session.scalars(query.order_by(ChainChief.position, ChainChief.id)))


def chain_organisation(session: Session, chain_id: str) -> ChainOrganisation:
    links = session.scalars(select(ChainUnit).where(ChainUnit.chain_id == chain_id)).all()
    office = next((link.unit for link in links if link.role == ChainRole.chain_office), None)
    members = sorted(
        (link.unit for link in links if link.role == ChainRole.member_unit), key=lambda u: u.name
    )
    return ChainOrganisation(chain_id, chain_chiefs(session, chain_id), office, members)


def _require_user_manager(actor: Actor) -> None:
    if not allows(actor.role, Permission.manage_users):
        raise NotAllowed(actor, Action.edit, Target(Kind.unit))


def add_unit_user(session: Session, actor: Actor, unit_id: int, user_id: int) -> UnitUser:
    """Membership widens what a user sees and changes, so only user managers set it."""
    _require_user_manager(actor)
    unit = get_unit(session, unit_id)
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"没有编号为 {user_id} 的用户", f"no user with id {user_id}")
    link = session.get(UnitUser, (unit.id, user.id))
    if link is None:
        link = UnitUser(unit_id=unit.id, user_id=user.id)
        session.add(link)
        flush(session)
        audit(session, actor, "unit.user_add", f"unit:{unit.id}", {"user": user.username})
    return link


def remove_unit_user(session: Session, actor: Actor, unit_id: int, user_id: int) -> None:
    _require_user_manager(actor)
    link = session.get(UnitUser, (unit_id, user_id))
    if link is None:
        raise UserError(
            f"用户 {user_id} 不属于单位 {unit_id}", f"user {user_id} is not in unit {unit_id}"
        )
    session.delete(link)
    flush(session)
    audit(session, actor, "unit.user_remove", f"unit:{unit_id}", {"user_id": user_id})


def units_of_user(session: Session, user_id: int) -> list[Unit]:
    query = select(Unit).join(UnitUser, UnitUser.unit_id == Unit.id)
    return list(session.scalars(query.where(UnitUser.user_id == user_id).order_by(Unit.name)))


def chains_of_units(session: Session, unit_ids: Iterable[int]) -> set[str]:
    ids = list(unit_ids)
    if not ids:
        return set()
    return set(session.scalars(select(ChainUnit.chain_id).where(ChainUnit.unit_id.in_(ids))))


def actor_for(session: Session, user: User) -> Actor:
    """The user as the access rules see it: role, units, and the chains it works on (those
    on its account and those its units serve)."""
    unit_ids = frozenset(u.id for u in units_of_user(session, user.id))
    chains = set(user.chain_ids) | chains_of_units(session, unit_ids)
    return Actor(
        username=user.username,
        role=Role(user.role),
        user_id=user.id,
        unit_ids=unit_ids,
        chain_ids=frozenset(chains),
    )
