"""Who may see and change what in the chain-chief workflow: one table, read by the services
(which refuse what it does not allow), by the list queries (which filter by it) and by the
access tests, so the three never drift.

A user acts as an `Actor`: its role (accounts/roles.py), the units it belongs to and the
chains it works on (the chains on its account plus the chains its units serve). Each grant
names the scopes in which it holds:

- `any`: every object;
- `chain`: objects of a chain the actor works on;
- `unit`: objects owned by one of the actor's units (a project's responsible unit, a case's
  assigned unit, the unit itself; for CPPCC records, a handling unit);
- `own`: objects of the actor itself (a CPPCC member's own duty records and proposals).

The CPPCC kinds (consultation plans and meetings, suggestions/proposals/opinion reports,
member duty records; `chainatlas.cppcc`) use the same table: a record with several chains or
handling units is allowed when any one of them is (`chainatlas.cppcc.permissions`).

Pure: no database, no settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from chainatlas.accounts.roles import Role
from chainatlas.errors import UserError


class Kind(StrEnum):
    unit = "unit"  # a unit and its contacts
    chain = "chain"  # a chain's organisation: chiefs, office, member units
    project = "project"
    case = "case"
    review_meeting = "review_meeting"
    kpi_weights = "kpi_weights"  # the yearly assessment weights (考核权重)
    # CPPCC (政协)
    cppcc_member = "cppcc_member"  # the roster of members (委员)
    consultation_plan = "consultation_plan"  # yearly consultation plan (协商计划)
    consultation = "consultation"  # a consultation meeting (协商会议)
    submission = "submission"  # suggestion / proposal / opinion report (意见建议/提案/社情民意)
    duty_record = "duty_record"  # a member's duty record (履职记录)
    duty_scoring = "duty_scoring"  # the yearly duty scoring rules (履职计分规则)


class Action(StrEnum):
    view = "view"
    create = "create"
    edit = "edit"
    stage = "stage"  # move a project to another stage
    assign = "assign"  # give a case to a unit with a deadline (again)
    start = "start"
    resolve = "resolve"
    confirm = "confirm"  # record the enterprise's confirmation
    reopen = "reopen"
    answer = "answer"  # a handling unit answers a submission (答复)
    track = "track"  # record a submission's result, progress and milestones (办理进展)
    merge = "merge"  # merge submissions into one (并案)
    split_up = "split"  # split a submission into several (拆分; `split` is a str method)


class Scope(StrEnum):
    any = "any"
    chain = "chain"
    unit = "unit"
    own = "own"


KIND_NAMES: dict[Kind, tuple[str, str]] = {
    Kind.unit: ("单位", "unit"),
    Kind.chain: ("产业链组织架构", "chain organisation"),
    Kind.project: ("招商项目", "project"),
    Kind.case: ("企业诉求", "case"),
    Kind.review_meeting: ("调度会", "review meeting"),
    Kind.kpi_weights: ("考核权重", "assessment weights"),
    Kind.cppcc_member: ("政协委员", "CPPCC member"),
    Kind.consultation_plan: ("协商计划", "consultation plan"),
    Kind.consultation: ("协商会议", "consultation"),
    Kind.submission: ("意见建议（提案、社情民意）", "suggestion (proposal, opinion report)"),
    Kind.duty_record: ("履职记录", "duty record"),
    Kind.duty_scoring: ("履职计分规则", "duty scoring rules"),
}
ACTION_NAMES: dict[Action, tuple[str, str]] = {
    Action.view: ("查看", "view"),
    Action.create: ("新建", "create"),
    Action.edit: ("修改", "edit"),
    Action.stage: ("变更阶段", "change the stage of"),
    Action.assign: ("交办", "assign"),
    Action.start: ("开始办理", "start work on"),
    Action.resolve: ("办结", "resolve"),
    Action.confirm: ("确认", "confirm"),
    Action.reopen: ("重新办理", "reopen"),
    Action.answer: ("答复", "answer"),
    Action.track: ("更新办理进展", "track the result of"),
    Action.merge: ("合并", "merge"),
    Action.split_up: ("拆分", "split"),
}

Grants = Mapping[Kind, Mapping[Action, frozenset[Scope]]]

ANY = frozenset({Scope.any})
CHAIN = frozenset({Scope.chain})
UNIT = frozenset({Scope.unit})
CHAIN_OR_UNIT = frozenset({Scope.chain, Scope.unit})
OWN = frozenset({Scope.own})


def _all(
    scopes: frozenset[Scope], actions: Iterable[Action] = Action
) -> dict[Action, frozenset[Scope]]:
    return dict.fromkeys(actions, scopes)


_READ_ALL: dict[Kind, dict[Action, frozenset[Scope]]] = {k: {Action.view: ANY} for k in Kind}

CPPCC_KINDS = (
    Kind.cppcc_member,
    Kind.consultation_plan,
    Kind.consultation,
    Kind.submission,
    Kind.duty_record,
    Kind.duty_scoring,
)
CPPCC_ACTIONS = (
    Action.view,
    Action.create,
    Action.edit,
    Action.assign,
    Action.answer,
    Action.track,
    Action.merge,
    Action.split_up,
)
# the CPPCC staff (admin, analyst) keep every CPPCC record
_CPPCC_MANAGE: dict[Kind, dict[Action, frozenset[Scope]]] = {
    k: _all(ANY, CPPCC_ACTIONS) for k in CPPCC_KINDS
}
# chain offices and member units are handling units: they see the CPPCC records on their
# chains and those assigned to them, answer and report progress on what is assigned to them
_CPPCC_HANDLING: dict[Kind, dict[Action, frozenset[Scope]]] = {
    Kind.consultation: {Action.view: CHAIN},
    Kind.submission: {Action.view: CHAIN_OR_UNIT, Action.answer: UNIT, Action.track: UNIT},
    Kind.duty_record: {Action.view: CHAIN},
}

ACCESS: dict[Role, Grants] = {
    Role.admin: {k: _all(ANY) for k in Kind},
    # investment-promotion analysts keep the pipeline of every chain
    Role.analyst: {
        **_READ_ALL,
        Kind.project: _all(ANY, (Action.view, Action.create, Action.edit, Action.stage)),
        **_CPPCC_MANAGE,
    },
    # the chain office runs its chains: projects, cases, meetings, members and chiefs
    Role.chain_office: {
        Kind.unit: {Action.view: ANY, Action.edit: UNIT},
        Kind.chain: {Action.view: CHAIN, Action.edit: CHAIN},
        Kind.project: _all(CHAIN, (Action.view, Action.create, Action.edit, Action.stage)),
        Kind.case: _all(CHAIN),
        Kind.review_meeting: _all(CHAIN, (Action.view, Action.create, Action.edit)),
        Kind.kpi_weights: {Action.view: ANY},
        **_CPPCC_HANDLING,
    },
    # a member unit sees its chains, raises cases on them and works on what it owns
    Role.member_unit: {
        Kind.unit: {Action.view: ANY, Action.edit: UNIT},
        Kind.chain: {Action.view: CHAIN},
        Kind.project: {
            Action.view: CHAIN_OR_UNIT,
            Action.create: UNIT,
            Action.edit: UNIT,
            Action.stage: UNIT,
        },
        Kind.case: {
            Action.view: CHAIN_OR_UNIT,
            Action.create: CHAIN,
            Action.edit: UNIT,
            Action.start: UNIT,
            Action.resolve: UNIT,
        },
        Kind.review_meeting: {Action.view: CHAIN},
        Kind.kpi_weights: {Action.view: ANY},
        **_CPPCC_HANDLING,
    },
    # a member reads every CPPCC record, records its own duties, registers its proposals and
    # corrects them until they are handed to handling units (cppcc.suggestions)
    Role.cppcc_member: {
        **_READ_ALL,
        Kind.submission: {Action.view: ANY, Action.create: OWN, Action.edit: OWN},
        Kind.duty_record: {Action.view: ANY, Action.create: OWN, Action.edit: OWN},
    },
    Role.viewer: _READ_ALL,
}


@dataclass(frozen=True)
class Actor:
    """Who acts: what the access rules, the history rows and the audit log need."""

    username: str
    role: Role
    user_id: int | None = None
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    chain_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, username: str = "system") -> Actor:
        """The CLI and jobs: acts with every right, recorded under `username`."""
        return cls(username=username, role=Role.admin)


@dataclass(frozen=True)
class Target:
    """The object acted on, as the rules see it."""

    kind: Kind
    chain_id: str | None = None
    unit_id: int | None = None  # the owning unit (responsible / assigned / the unit itself)
    owner_id: int | None = None  # the user the record belongs to (a CPPCC member's account)


def scopes(actor: Actor, kind: Kind, action: Action) -> frozenset[Scope]:
    return ACCESS.get(actor.role, {}).get(kind, {}).get(action, frozenset())


def in_scope(actor: Actor, target: Target, scope: Scope) -> bool:
    if scope is Scope.any:
        return True
    if scope is Scope.chain:
        return target.chain_id is not None and target.chain_id in actor.chain_ids
    if scope is Scope.own:
        return target.owner_id is not None and target.owner_id == actor.user_id
    return target.unit_id is not None and target.unit_id in actor.unit_ids


def may(actor: Actor, action: Action, target: Target) -> bool:
    """May `actor` do `action` on `target`?"""
    return any(in_scope(actor, target, s) for s in scopes(actor, target.kind, action))


def may_view(actor: Actor, target: Target) -> bool:
    return may(actor, Action.view, target)


def may_change(actor: Actor, target: Target, action: Action = Action.edit) -> bool:
    return action is not Action.view and may(actor, action, target)


class NotAllowed(UserError):
    """The actor may not do this (web: 403)."""

    def __init__(self, actor: Actor, action: Action, target: Target) -> None:
        kind_zh, kind_en = KIND_NAMES[target.kind]
        act_zh, act_en = ACTION_NAMES[action]
        where_zh = f"（产业链 {target.chain_id}）" if target.chain_id else ""
        where_en = f" (chain {target.chain_id})" if target.chain_id else ""
        super().__init__(
            f"用户 {actor.username} 无权{act_zh}此{kind_zh}{where_zh}",
            f"user {actor.username} may not {act_en} this {kind_en}{where_en}",
        )
        self.action = action
        self.target = target


def require(actor: Actor, action: Action, target: Target) -> None:
    if not may(actor, action, target):
        raise NotAllowed(actor, action, target)
