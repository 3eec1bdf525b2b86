"""The fixed vocabulary of the CPPCC workflow and the access rules for its records (pure)."""

from __future__ import annotations

import itertools
from enum import StrEnum

import pytest

from chainatlas.accounts.roles import Role
from chainatlas.cppcc import vocabulary as v
from chainatlas.cppcc.groups import GROUPS, check_group, group_name
from chainatlas.cppcc.intake_lexicon import PARTICIPANTS
from chainatlas.cppcc.permissions import may_any, require_any, targets
from chainatlas.errors import UserError
from chainatlas.workflow.access import (
    CPPCC_KINDS,
    Action,
    Actor,
    Kind,
    NotAllowed,
    Target,
    may,
    may_view,
)

OFFICE = Actor("office", Role.chain_office, 1, frozenset({10}), frozenset({"toy"}))
UNIT = Actor("commerce", Role.member_unit, 2, frozenset({20}), frozenset({"toy"}))
MEMBER = Actor("zhang", Role.cppcc_member, 3)
ANALYST = Actor("analyst", Role.analyst, 4)
VIEWER = Actor("viewer", Role.viewer, 5)


def test_every_intake_participant_is_a_reference_group_of_the_same_kind() -> None:
    for group_id, short, kind, _forms in PARTICIPANTS:
        assert group_id in GROUPS, group_id
        assert GROUPS[group_id].zh == short
        assert GROUPS[group_id].kind == kind


def test_the_parties_of_the_wuzhou_meeting_have_chinese_and_english_names() -> None:
    wuzhou = [
        "民革",
        "民盟",
        "民建",
        "民进",
        "农工党",
        "致公党",
        "九三学社",
        "工商联",
        "无党派人士",
    ]
    ids = [check_group(name) for name in wuzhou]
    assert ids == ["rcck", "cdl", "cndca", "capd", "pwdp", "czgd", "jiusan", "acfic", "non_party"]
    assert [group_name(i) for i in ids] == wuzhou
    assert group_name("cdl", "en") == "China Democratic League"
    # full names and English names are accepted too
    assert check_group("中国民主建国会") == "cndca"
    assert check_group("Jiusan Society") == "jiusan"
    assert check_group("  ") is None
    with pytest.raises(UserError, match="不在参考名单中") as caught:
        check_group("民主党")
    assert "unknown party or sector" in caught.value.message_en
    sectors = [g for g in GROUPS.values() if g.kind == "sector"]
    assert len(sectors) >= 20
    assert (
        len({g.en for g in GROUPS.values()}) == len({g.zh for g in GROUPS.values()}) == len(GROUPS)
    )


@pytest.mark.parametrize(
    ("enum", "names"),
    [
        (v.ConsultationKind, v.CONSULTATION_KIND_NAMES),
        (v.Attendance, v.ATTENDANCE_NAMES),
        (v.SubmissionKind, v.SUBMISSION_KIND_NAMES),
        (v.SubmissionState, v.SUBMISSION_STATE_NAMES),
        (v.ResultStatus, v.RESULT_STATUS_NAMES),
        (v.HandlingState, v.HANDLING_STATE_NAMES),
        (v.DutyKind, v.DUTY_KIND_NAMES),
    ],
)
def test_every_value_has_a_chinese_and_an_english_name(
    enum: type[StrEnum], names: dict[str, tuple[str, str]]
) -> None:
    assert set(names) == {m.value for m in enum}
    for zh, en in names.values():
        assert zh and en and zh != en


def test_duty_kinds_and_planned_kinds_are_those_of_the_design() -> None:
    assert {k.value for k in v.DutyKind} == {
        "visit",
        "investment_event",
        "research",
        "speech",
        "proposal",
        "matchmaking",
        "village_pairing",
    }
    assert {k.value for k in v.PLANNED_KINDS} == {"topical", "counterpart", "sector", "bimonthly"}


@pytest.mark.parametrize(
    ("actor", "action", "target", "allowed"),
    [
        # handling units answer and report on what is assigned to them, see their chains
        (UNIT, Action.answer, Target(Kind.submission, unit_id=20), True),
        (UNIT, Action.answer, Target(Kind.submission, unit_id=30), False),
        (UNIT, Action.answer, Target(Kind.submission, chain_id="toy"), False),
        (UNIT, Action.track, Target(Kind.submission, unit_id=20), True),
        (UNIT, Action.view, Target(Kind.submission, chain_id="toy"), True),
        (UNIT, Action.view, Target(Kind.submission, chain_id="other"), False),
        (UNIT, Action.assign, Target(Kind.submission, unit_id=20), False),
        (UNIT, Action.view, Target(Kind.consultation, chain_id="toy"), True),
        (UNIT, Action.edit, Target(Kind.consultation, chain_id="toy"), False),
        (OFFICE, Action.answer, Target(Kind.submission, unit_id=10), True),
        (OFFICE, Action.view, Target(Kind.duty_record, chain_id="toy"), True),
        (OFFICE, Action.view, Target(Kind.cppcc_member), False),
        # a member reads everything, records its own duties and registers its proposals
        (MEMBER, Action.view, Target(Kind.submission), True),
        (MEMBER, Action.view, Target(Kind.duty_record, owner_id=99), True),
        (MEMBER, Action.create, Target(Kind.duty_record, owner_id=3), True),
        (MEMBER, Action.edit, Target(Kind.duty_record, owner_id=3), True),
        (MEMBER, Action.create, Target(Kind.duty_record, owner_id=99), False),
        (MEMBER, Action.create, Target(Kind.duty_record), False),
        (MEMBER, Action.create, Target(Kind.submission, owner_id=3), True),
        (MEMBER, Action.edit, Target(Kind.submission, owner_id=3), True),
        (MEMBER, Action.edit, Target(Kind.submission, owner_id=99), False),
        (MEMBER, Action.create, Target(Kind.consultation), False),
        (MEMBER, Action.edit, Target(Kind.duty_scoring), False),
        # CPPCC staff manage; viewers read
        (ANALYST, Action.merge, Target(Kind.submission), True),
        (ANALYST, Action.split_up, Target(Kind.submission), True),
        (ANALYST, Action.edit, Target(Kind.duty_scoring), True),
        (ANALYST, Action.create, Target(Kind.consultation_plan), True),
        (VIEWER, Action.view, Target(Kind.consultation_plan), True),
        (VIEWER, Action.answer, Target(Kind.submission, unit_id=20), False),
    ],
)
def test_cppcc_rules(actor: Actor, action: Action, target: Target, allowed: bool) -> None:
    assert may(actor, action, target) is allowed


def test_a_record_on_several_chains_and_units_is_allowed_when_any_one_allows() -> None:
    found = targets(Kind.submission, chain_ids=["other", None], unit_ids=[30, 20], owner_id=7)
    assert len(found) == 3 and all(t.owner_id == 7 for t in found)
    assert may_any(UNIT, Action.answer, found)  # through unit 20
    assert not may_any(UNIT, Action.answer, found[:2])
    with pytest.raises(NotAllowed, match="无权答复"):
        require_any(UNIT, Action.answer, found[:2])
    assert targets(Kind.duty_record) == [Target(Kind.duty_record)]


def test_scoped_roles_without_units_see_no_cppcc_record() -> None:
    nobody = Actor("new", Role.member_unit)
    for kind, chain, unit, owner in itertools.product(
        CPPCC_KINDS, ("toy", None), (20, None), (None, 1)
    ):
        assert not may_view(nobody, Target(kind, chain, unit, owner))
