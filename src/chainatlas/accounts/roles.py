"""Roles and what each may do. One table, read by the routes' guards and by the access
matrix test, so the two never drift."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    chain_office = "chain_office"  # 链长办: scoped to its chains
    member_unit = "member_unit"  # 成员单位: scoped to its chains
    cppcc_member = "cppcc_member"  # 政协委员
    viewer = "viewer"


class Permission(StrEnum):
    view = "view"  # read pages and API, including target and opportunity lists
    analyze = "analyze"  # start briefing packs and other analysis jobs
    mark_targets = "mark_targets"  # mark a target contacted / not relevant
    manage_data = "manage_data"  # upload files, rebuild classification
    manage_users = "manage_users"  # accounts, audit log


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.analyst: frozenset(
        {Permission.view, Permission.analyze, Permission.mark_targets, Permission.manage_data}
    ),
    Role.chain_office: frozenset({Permission.view, Permission.analyze, Permission.mark_targets}),
    Role.member_unit: frozenset({Permission.view}),
    Role.cppcc_member: frozenset({Permission.view}),
    Role.viewer: frozenset({Permission.view}),
}

# roles that see only the chains listed on the user
SCOPED_ROLES = frozenset({Role.chain_office, Role.member_unit})

ROLE_NAMES_ZH = {
    Role.admin: "管理员",
    Role.analyst: "分析员",
    Role.chain_office: "链长办",
    Role.member_unit: "成员单位",
    Role.cppcc_member: "政协委员",
    Role.viewer: "只读用户",
}


def allows(role: Role | str, permission: Permission) -> bool:
    return permission in GRANTS[Role(role)]
