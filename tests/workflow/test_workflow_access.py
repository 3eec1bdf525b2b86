"""Who may see and change what: the pure rules, and the list queries filtering by them."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import select

from chainatlas.accounts.roles import Role
from chainatlas.db.session import Database
from chainatlas.workflow import cases, projects
from chainatlas.workflow.access import (
    ACCESS,
    Action,
    Actor,
    Kind,
    NotAllowed,
    Target,
    may,
    may_change,
    may_view,
    require,
)
from chainatlas.workflow.models import Case, Project

OFFICE = Actor("office", Role.chain_office, 1, frozenset({10}), frozenset({"toy"}))
MEMBER = Actor("land", Role.member_unit, 2, frozenset({20}), frozenset({"toy"}))
ANALYST = Actor("analyst", Role.analyst, 3)
VIEWER = Actor("viewer", Role.viewer, 4)
ADMIN = Actor("admin", Role.admin, 5)
SYSTEM = Actor.system("setup")


def test_every_role_has_rules_and_views_are_never_changes() -> None:
    assert set(ACCESS) == set(Role)
    target = Target(Kind.case, "toy", 20)
    assert not may_change(ADMIN, target, Action.view)
    assert may_change(ADMIN, target, Action.reopen)


@pytest.mark.parametrize(
    ("actor", "action", "target", "allowed"),
    [
        # the chain office runs its chains, not the others
        (OFFICE, Action.assign, Target(Kind.case, "toy", 20), True),
        (OFFICE, Action.assign, Target(Kind.case, "other", 20), False),
        (OFFICE, Action.view, Target(Kind.case, "other", None), False),
        (OFFICE, Action.stage, Target(Kind.project, "toy", None), True),
        (OFFICE, Action.edit, Target(Kind.chain, "toy"), True),
        (OFFICE, Action.edit, Target(Kind.chain, "other"), False),
        (OFFICE, Action.create, Target(Kind.review_meeting, "toy"), True),
        (OFFICE, Action.create, Target(Kind.unit), False),
        (OFFICE, Action.edit, Target(Kind.unit, unit_id=10), True),
        (OFFICE, Action.edit, Target(Kind.unit, unit_id=20), False),
        # a member unit works on what is assigned to it, sees its chains, raises cases
        (MEMBER, Action.view, Target(Kind.case, "toy", None), True),
        (MEMBER, Action.view, Target(Kind.case, "other", 20), True),  # its own, elsewhere
        (MEMBER, Action.view, Target(Kind.case, "other", 30), False),
        (MEMBER, Action.resolve, Target(Kind.case, "toy", 20), True),
        (MEMBER, Action.resolve, Target(Kind.case, "toy", 30), False),
        (MEMBER, Action.assign, Target(Kind.case, "toy", 20), False),
        (MEMBER, Action.confirm, Target(Kind.case, "toy", 20), False),
        (MEMBER, Action.create, Target(Kind.case, "toy"), True),
        (MEMBER, Action.create, Target(Kind.case, "other"), False),
        (MEMBER, Action.create, Target(Kind.project, "other", 20), True),
        (MEMBER, Action.create, Target(Kind.project, "toy", 30), False),
        (MEMBER, Action.stage, Target(Kind.project, "toy", 20), True),
        (MEMBER, Action.edit, Target(Kind.review_meeting, "toy"), False),
        (MEMBER, Action.view, Target(Kind.review_meeting, "toy"), True),
        # analysts keep the pipeline of every chain; viewers read
        (ANALYST, Action.stage, Target(Kind.project, "other", None), True),
        (ANALYST, Action.resolve, Target(Kind.case, "toy", None), False),
        (ANALYST, Action.view, Target(Kind.case, "other", None), True),
        (VIEWER, Action.view, Target(Kind.project, "toy", None), True),
        (VIEWER, Action.edit, Target(Kind.project, "toy", None), False),
        (ADMIN, Action.create, Target(Kind.unit), True),
    ],
)
def test_rules(actor: Actor, action: Action, target: Target, allowed: bool) -> None:
    assert may(actor, action, target) is allowed
    if allowed:
        require(actor, action, target)
    else:
        with pytest.raises(NotAllowed, match=actor.username) as caught:
            require(actor, action, target)
        assert "无权" in caught.value.message_zh and "may not" in caught.value.message_en


def test_scoped_roles_see_nothing_outside_their_chains_and_units() -> None:
    nobody = Actor("new", Role.member_unit)
    for kind, chain, unit in itertools.product(Kind, ("toy", None), (20, None)):
        target = Target(kind, chain, unit)
        # the unit directory and the year's assessment weights are everyone's
        assert may_view(nobody, target) is (kind in (Kind.unit, Kind.kpi_weights))


def test_list_queries_return_exactly_what_may_view_allows(db: Database, organisation) -> None:
    with db.session() as s:
        for chain_id, unit_id in (
            ("toy", organisation.land),
            ("toy", None),
            ("other", organisation.commerce),
            ("other", organisation.land),
            ("other", None),
        ):
            projects.add_project(
                s, SYSTEM, name="项目", investor_name="投资方", chain_id=chain_id, unit_id=unit_id
            )
            cases.add_case(
                s,
                SYSTEM,
                title="诉求",
                source="member",
                category="land",
                chain_id=chain_id,
                unit_id=unit_id,
                deadline=None if unit_id is None else date(2030, 1, 1),
            )
    with db.session() as s:
        every_project = s.scalars(select(Project)).all()
        every_case = s.scalars(select(Case)).all()
        for username in organisation.users:
            actor = organisation.actor(s, username)
            seen = {p.id for p in projects.list_projects(s, actor)}
            expected = {
                p.id
                for p in every_project
                if may_view(actor, Target(Kind.project, p.chain_id, p.unit_id))
            }
            assert seen == expected, username
            seen_cases = {c.id for c in cases.list_cases(s, actor)}
            expected_cases = {
                c.id
                for c in every_case
                if may_view(actor, Target(Kind.case, c.chain_id, c.unit_id))
            }
            assert seen_cases == expected_cases, username
        land = organisation.actor(s, "land")
        # 自然资源局 serves toy: all toy rows, plus the `other` row assigned to it
        assert len(projects.list_projects(s, land)) == 3
        assert len(projects.list_projects(s, organisation.actor(s, "viewer"))) == 5
