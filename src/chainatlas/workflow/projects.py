"""The projects pipeline (招商项目库): add and edit projects, move them through their stages
(`lead → negotiating → signed → started → in_production`, or `lost` / `on_hold`) with a
dated history row per move, and find the projects that stall.

Each stage needs the fields of the stages before it (cumulative): `negotiating` a
responsible unit; `signed` also the amount and the signing date; `started` also the park
and the start date; `in_production` also the production date. A move to `lost` or
`on_hold` needs a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.ingest.validators import is_valid_uscc
from chainatlas.workflow.access import Action, Actor, Kind, Target, may, require
from chainatlas.workflow.edits import (
    CHINA_OFFSET,
    audit,
    check_version,
    choice,
    flush,
    local_day,
    text,
)
from chainatlas.workflow.models import STAGE_NAMES, Project, ProjectStage, ProjectStageChange
from chainatlas.workflow.organisation import get_unit
from chainatlas.workflow.visibility import visible

S = ProjectStage
MAIN_LINE: tuple[ProjectStage, ...] = (S.lead, S.negotiating, S.signed, S.started, S.in_production)
# stages that need a reason when entered
REASON_STAGES = frozenset({S.lost, S.on_hold})
# stages in which a project can stall (in production and lost are done)
ACTIVE_STAGES = frozenset({S.lead, S.negotiating, S.signed, S.started, S.on_hold})

FIELD_NAMES: dict[str, tuple[str, str]] = {
    "name": ("项目名称", "project name"),
    "investor_name": ("投资方", "investor"),
    "investor_uscc": ("统一社会信用代码", "investor USCC"),
    "chain_id": ("产业链", "chain"),
    "node_id": ("环节", "node"),
    "amount_wan": ("投资额（万元）", "amount (10k CNY)"),
    "park": ("落地园区", "park"),
    "unit_id": ("责任单位", "responsible unit"),
    "stage": ("阶段", "stage"),
    "signed_on": ("签约日期", "signing date"),
    "started_on": ("开工日期", "start date"),
    "production_on": ("投产日期", "production date"),
    "region_code": ("落地地区", "region"),
    "target_region_code": ("来源清单地区", "target list region"),
    "target_chain_id": ("来源清单产业链", "target list chain"),
    "target_node_id": ("来源清单环节", "target list node"),
    "note": ("备注", "note"),
}
EDITABLE = frozenset(FIELD_NAMES) - {"stage"}

_STAGE_NEEDS: dict[ProjectStage, tuple[str, ...]] = {
    S.negotiating: ("unit_id",),
    S.signed: ("amount_wan", "signed_on"),
    S.started: ("park", "started_on"),
    S.in_production: ("production_on",),
}


def required_fields(stage: str) -> tuple[str, ...]:
    """The fields a project must have filled in at `stage` (those of earlier stages too)."""
    stage = ProjectStage(stage)
    if stage not in MAIN_LINE:
        return ("name", "investor_name", "chain_id")
    upto = MAIN_LINE[: MAIN_LINE.index(stage) + 1]
    return (
        "name",
        "investor_name",
        "chain_id",
        *(f for s in upto for f in _STAGE_NEEDS.get(s, ())),
    )


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, float | int):
        return value > 0
    return True


def check_required(values: Mapping[str, Any], stage: str) -> None:
    """A UserError naming (zh and en) every field `stage` needs that `values` lacks."""
    missing = [f for f in required_fields(stage) if not _filled(values.get(f))]
    if missing:
        zh, en = STAGE_NAMES[stage]
        raise UserError(
            f"阶段「{zh}」需要填写：{'、'.join(FIELD_NAMES[f][0] for f in missing)}",
            f"stage {en!r} needs: {', '.join(FIELD_NAMES[f][1] for f in missing)}",
        )
    dates = [(f, values.get(f)) for f in ("signed_on", "started_on", "production_on")]
    present = [(f, d) for f, d in dates if d is not None]
    for (f1, d1), (f2, d2) in pairwise(present):
        if d2 < d1:
            raise UserError(
                f"{FIELD_NAMES[f2][0]}（{d2}）不能早于{FIELD_NAMES[f1][0]}（{d1}）",
                f"{FIELD_NAMES[f2][1]} ({d2}) cannot be before the {FIELD_NAMES[f1][1]} ({d1})",
            )


def next_stages(stage: str) -> tuple[ProjectStage, ...]:
    """Where a project may go from `stage`: forward on the main line (skipping is fine: a
    project may be signed at a fair without a recorded negotiation), or to lost / on hold;
    a lost or paused project resumes at any main-line stage; in production is final."""
    stage = ProjectStage(stage)
    if stage is S.in_production:
        return ()
    if stage in REASON_STAGES:
        return (*MAIN_LINE, *(s for s in (S.lost, S.on_hold) if s is not stage))
    return (*MAIN_LINE[MAIN_LINE.index(stage) + 1 :], S.lost, S.on_hold)


def stage_name(stage: str, lang: str = "zh") -> str:
    zh, en = STAGE_NAMES.get(stage, (stage, stage))
    return en if lang == "en" else zh


_REGION = re.compile(r"^(\d{6})?$")


def _clean(
    session: Session, key: str, value: Any, chains: Mapping[str, Chain] | None, chain_id: str | None
) -> Any:
    """One field's value as stored; a UserError naming the field when it is invalid."""
    zh, en = FIELD_NAMES[key]
    if key in ("name", "investor_name"):
        return text(value, 200, zh, en, required=True)
    if key in ("park", "note"):
        return text(value, 200 if key == "park" else 4000, zh, en, required=False)
    if key in ("investor_uscc",):
        code = (value or "").strip().upper()
        if not code:
            return None
        if not is_valid_uscc(code):
            raise UserError(
                f"{zh}「{code}」无效：应为 18 位且校验位正确",
                f"invalid {en} {code!r}: 18 characters with a correct check digit",
            )
        return code
    if key in ("region_code", "target_region_code"):
        code = (value or "").strip()
        if not _REGION.match(code):
            raise UserError(
                f"{zh}「{code}」无效：应为 6 位行政区划代码",
                f"invalid {en} {code!r}: a 6-digit region code",
            )
        return code if key == "region_code" else (code or None)
    if key == "chain_id":
        chain = text(value, 64, zh, en, required=True)
        if chains is not None and chain not in chains:
            raise UserError(f"未知产业链「{chain}」", f"unknown chain {chain!r}")
        return chain
    if key in ("node_id", "target_chain_id", "target_node_id"):
        node = text(value, 64, zh, en, required=False) or None
        template = chains.get(chain_id) if chains is not None and chain_id is not None else None
        known = template.node_ids if template is not None else None
        if key == "node_id" and node and known is not None and node not in known:
            raise UserError(
                f"产业链「{chain_id}」没有环节「{node}」",
                f"chain {chain_id!r} has no node {node!r}",
            )
        return node
    if key == "amount_wan":
        if value is None or value == "":
            return None
        try:
            amount = float(value)
        except (TypeError, ValueError):
            raise UserError(f"{zh}应为数字", f"{en} must be a number") from None
        if not amount >= 0 or amount == float("inf"):
            raise UserError(f"{zh}不能为负数", f"{en} cannot be negative")
        return amount
    if key == "unit_id":
        return None if value is None else get_unit(session, int(value)).id
    if key in ("signed_on", "started_on", "production_on"):
        if value is not None and not isinstance(value, date):
            raise UserError(f"{zh}应为日期", f"{en} must be a date")
        return value
    raise KeyError(key)  # pragma: no cover - keys come from EDITABLE


def _values(project: Project) -> dict[str, Any]:
    return {key: getattr(project, key) for key in EDITABLE}


def _target(project: Project) -> Target:
    return Target(Kind.project, chain_id=project.chain_id, unit_id=project.unit_id)


def get_project(session: Session, project_id: int, actor: Actor | None = None) -> Project:
    """The project; with `actor`, only if the actor may see it (NotAllowed otherwise)."""
    project = session.get(Project, project_id)
    if project is None:
        raise UserError(f"没有编号为 {project_id} 的项目", f"no project with id {project_id}")
    if actor is not None:
        require(actor, Action.view, _target(project))
    return project


def project_moves(actor: Actor, project: Project) -> list[ProjectStage]:
    """The stages the actor may move the project to now (the kanban's drop targets)."""
    if not may(actor, Action.stage, _target(project)):
        return []
    return list(next_stages(project.stage))


def _history(project: Project, actor: Actor, from_stage: str | None, note: str) -> None:
    project.history.append(
        ProjectStageChange(
            at=utcnow(),
            user_id=actor.user_id,
            username=actor.username,
            from_stage=from_stage,
            to_stage=project.stage,
            note=note,
        )
    )


def _reason(stage: str, note: str) -> str:
    note = text(note, 2000, "说明", "note", required=False)
    if stage in REASON_STAGES and not note:
        zh, en = STAGE_NAMES[stage]
        raise UserError(f"转为「{zh}」需要说明原因", f"moving to {en!r} needs a reason")
    return note


def add_project(
    session: Session,
    actor: Actor,
    *,
    name: str,
    investor_name: str,
    chain_id: str,
    stage: str = S.lead.value,
    stage_note: str = "",
    chains: Mapping[str, Chain] | None = None,
    **fields: Any,
) -> Project:
    """A new project at `stage` (which must have its required fields). `fields` are any of
    `EDITABLE`; `chains` (the atlas), when given, checks chain and node ids."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    stage = choice(stage, STAGE_NAMES, "阶段", "stage")
    raw = {"name": name, "investor_name": investor_name, "chain_id": chain_id, **fields}
    chain = _clean(session, "chain_id", chain_id, chains, None)
    values = {k: _clean(session, k, v, chains, chain) for k, v in raw.items()}
    require(actor, Action.create, Target(Kind.project, chain, values.get("unit_id")))
    check_required(values, stage)
    note = _reason(stage, stage_note)
    now = utcnow()
    project = Project(stage=stage, stage_changed_at=now, created_by=actor.username, **values)
    _history(project, actor, None, note)
    session.add(project)
    flush(session)
    audit(
        session,
        actor,
        "project.add",
        f"project:{project.id}",
        {"name": project.name, "stage": stage},
    )
    return project


def update_project(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    expected_version: int | None,
    chains: Mapping[str, Chain] | None = None,
    **changes: Any,
) -> Project:
    """Change fields (any of `EDITABLE`); the project must still have what its stage needs."""
    project = get_project(session, project_id)
    changed = _changes(session, actor, project, expected_version, chains, changes, project.stage)
    if changed:
        _set(session, project, changed)
        flush(session, "该项目", "this project")
        audit(session, actor, "project.edit", f"project:{project.id}", changed)
    return project


def _changes(
    session: Session,
    actor: Actor,
    project: Project,
    expected_version: int | None,
    chains: Mapping[str, Chain] | None,
    changes: Mapping[str, Any],
    stage: str,
    action: Action = Action.edit,
) -> dict[str, Any]:
    """The fields `changes` really changes, checked (allowed, valid, and what `stage` needs
    is there) before anything is set: a refused edit leaves the project untouched."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    require(actor, action, _target(project))
    check_version(project, expected_version, "该项目", "this project")
    chain = changes.get("chain_id", project.chain_id)
    if "chain_id" in changes:
        chain = _clean(session, "chain_id", chain, chains, None)
    cleaned = {k: _clean(session, k, v, chains, chain) for k, v in changes.items()}
    changed = {k: v for k, v in cleaned.items() if v != getattr(project, k)}
    if "chain_id" in changed or "unit_id" in changed:
        # the project must stay within what the actor may change (no handing it away blind)
        after = Target(
            Kind.project,
            changed.get("chain_id", project.chain_id),
            cleaned.get("unit_id", project.unit_id),
        )
        require(actor, action, after)
    check_required(_values(project) | cleaned, stage)
    return changed


def _set(session: Session, project: Project, changed: Mapping[str, Any]) -> None:
    # the unit first: a lookup may autoflush, which would split this edit in two versions
    unit_id = changed.get("unit_id")
    unit = get_unit(session, unit_id) if unit_id is not None else None
    for key, value in changed.items():
        setattr(project, key, value)
    if "unit_id" in changed:
        project.unit = unit  # keep the loaded relationship in step with the column


def change_stage(
    session: Session,
    actor: Actor,
    project_id: int,
    stage: str,
    *,
    expected_version: int | None,
    stage_note: str = "",
    chains: Mapping[str, Chain] | None = None,
    **changes: Any,
) -> Project:
    """Move the project to `stage`, filling in what that stage needs from `changes` (e.g.
    `amount_wan` and `signed_on` when signing), and record the move."""
    project = get_project(session, project_id)
    stage = choice(stage, STAGE_NAMES, "阶段", "stage")
    if stage == project.stage:
        raise UserError(
            f"项目已处于「{stage_name(stage)}」阶段",
            f"the project is already {stage_name(stage, 'en')!r}",
        )
    if ProjectStage(stage) not in next_stages(project.stage):
        allowed_zh = "、".join(stage_name(s) for s in next_stages(project.stage)) or "无"
        allowed_en = ", ".join(s.value for s in next_stages(project.stage)) or "none"
        raise UserError(
            f"项目不能从「{stage_name(project.stage)}」转为「{stage_name(stage)}」（可转为：{allowed_zh}）",
            f"a project cannot move from {project.stage!r} to {stage!r} (allowed: {allowed_en})",
        )
    require(actor, Action.stage, _target(project))
    check_version(project, expected_version, "该项目", "this project")
    reason = _reason(stage, stage_note)
    before = project.stage
    changed = _changes(session, actor, project, None, chains, changes, stage, Action.stage)
    _set(session, project, changed)
    project.stage = stage
    project.stage_changed_at = utcnow()
    _history(project, actor, before, reason)
    flush(session, "该项目", "this project")
    detail = {"from": before, "to": stage, "reason": reason, **changed}
    audit(session, actor, "project.stage", f"project:{project.id}", detail)
    return project


def list_projects(
    session: Session,
    actor: Actor,
    *,
    chain_id: str | None = None,
    stage: str | None = None,
    unit_id: int | None = None,
) -> list[Project]:
    """The projects the actor may see, newest stage change first."""
    query = select(Project).where(visible(actor, Kind.project, Project.chain_id, Project.unit_id))
    if chain_id is not None:
        query = query.where(Project.chain_id == chain_id)
    if stage is not None:
        query = query.where(Project.stage == stage)
    if unit_id is not None:
        query = query.where(Project.unit_id == unit_id)
    return list(session.scalars(query.order_by(Project.stage_changed_at.desc(), Project.id.desc())))


@dataclass(frozen=True)
class StalledProject:
    project: Project
    days: int  # days since its last stage change


def stalled_projects(
    session: Session, chain_id: str, *, today: date, days: int
) -> list[StalledProject]:
    """Active projects of the chain whose stage has not changed for at least `days` days
    (China calendar days), the longest stalled first."""
    if days < 1:
        raise UserError("停滞天数应至少为 1", "the stalled-days threshold must be at least 1")
    # local_day(at) <= today - days  ⟺  at < (today - days + 1) 00:00 China time, in UTC
    cutoff = datetime.combine(today - timedelta(days=days - 1), time()) - CHINA_OFFSET
    query = select(Project).where(
        Project.chain_id == chain_id,
        Project.stage.in_(sorted(s.value for s in ACTIVE_STAGES)),
        Project.stage_changed_at < cutoff,
    )
    found = [
        StalledProject(p, (today - local_day(p.stage_changed_at)).days)
        for p in session.scalars(query)
    ]
    return sorted(found, key=lambda s: (-s.days, s.project.id))
