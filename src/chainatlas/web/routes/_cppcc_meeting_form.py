"""The consultation-meeting form shared by the new/edit pages and the document-intake
confirmation: what it posts (`MeetingForm`), the values the template shows (one shape,
whether they come from a meeting, an intake draft or what was typed) and the parsing of its
rows of leaders and of parties and sectors into the service's `LeaderIn` / `GroupIn`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.cppcc.consultations import LEADER_ROLES, GroupIn, LeaderIn
from chainatlas.cppcc.groups import GROUPS, Group
from chainatlas.cppcc.intake_model import MeetingDraft
from chainatlas.cppcc.models import Consultation
from chainatlas.cppcc.plans import list_plans
from chainatlas.errors import UserError
from chainatlas.web.routes._workflow import parse_day, parse_id
from chainatlas.workflow.access import Action, Actor, Kind, Target, may

MAX_LEADERS = 60
BLANK_LEADER_ROWS = 3
_SPEAKER_SPLIT = re.compile(r"\s*[、,，;；/\s]\s*")


class MeetingForm(BaseModel):
    """The meeting form as posted. Leaders and groups come as parallel lists: one
    `leader_name` / `leader_title` per row, a `leader_role` "row:role" per ticked role; one
    `group_row` / `group_speakers` per party or sector, its id in `groups` when it took
    part and in `spoke` when it spoke."""

    kind: str = Field("", max_length=32)
    held_on: str = Field("", max_length=20)
    topic: str = Field("", max_length=1000)
    title: str = Field("", max_length=1000)
    region_code: str = Field("", max_length=20)
    place: str = Field("", max_length=1000)
    plan_topic_id: str = Field("", max_length=20)
    summary: str = Field("", max_length=40000)
    chain_ids: list[str] = Field(default_factory=list, max_length=100)
    leader_name: list[str] = Field(default_factory=list, max_length=MAX_LEADERS + 20)
    leader_title: list[str] = Field(default_factory=list, max_length=MAX_LEADERS + 20)
    leader_role: list[str] = Field(default_factory=list, max_length=3 * (MAX_LEADERS + 20))
    group_row: list[str] = Field(default_factory=list, max_length=len(GROUPS) + 5)
    group_speakers: list[str] = Field(default_factory=list, max_length=len(GROUPS) + 5)
    groups: list[str] = Field(default_factory=list, max_length=len(GROUPS) + 5)
    spoke: list[str] = Field(default_factory=list, max_length=len(GROUPS) + 5)
    report_text: str = Field("", max_length=250_000)
    version: str = Field("", max_length=20)


@dataclass(frozen=True)
class Parsed:
    """The form's values as the service takes them."""

    held_on: Any
    plan_topic_id: int | None
    leaders: list[LeaderIn]
    groups: list[GroupIn]
    version: int | None


def group_sections() -> list[tuple[str, list[Group]]]:
    """The parties, the federation and non-party people first; the CPPCC sectors after."""
    first = [g for g in GROUPS.values() if g.kind != "sector"]
    sectors = [g for g in GROUPS.values() if g.kind == "sector"]
    return [("cpm_groups_parties", first), ("cpm_groups_sectors", sectors)]


def _speakers(value: str) -> list[str]:
    return [s for s in _SPEAKER_SPLIT.split(value.strip()) if s]


def _roles_by_row(form: MeetingForm) -> dict[int, list[str]]:
    """The roles ticked, by leader row ("2:chair" is row 2's chair)."""
    roles: dict[int, list[str]] = {}
    for entry in form.leader_role:
        row, _, role = entry.partition(":")
        if row.isdigit():
            roles.setdefault(int(row), []).append(role)
    return roles


def parse_leaders(form: MeetingForm) -> list[LeaderIn]:
    roles = _roles_by_row(form)
    leaders: list[LeaderIn] = []
    for row, name in enumerate(form.leader_name):
        title = form.leader_title[row] if row < len(form.leader_title) else ""
        if not name.strip() and not title.strip():
            continue
        if not name.strip():
            raise UserError(
                f"「出席领导」第 {row + 1} 行：请填写领导姓名（职务为「{title.strip()}」）",
                f"'leaders present', row {row + 1}: the leader's name is required "
                f"(title {title.strip()!r})",
            )
        leaders.append(LeaderIn(name, title, tuple(roles.get(row) or ("present",))))
    if len(leaders) > MAX_LEADERS:
        raise UserError(
            f"「出席领导」过多：最多 {MAX_LEADERS} 人", f"'leaders present': at most {MAX_LEADERS}"
        )
    return leaders


def parse_groups(form: MeetingForm) -> list[GroupIn]:
    """The parties and sectors ticked, or named as speaking, in the form's row order."""
    taking_part, spoke = set(form.groups), set(form.spoke)
    found: list[GroupIn] = []
    rows = list(form.group_row)
    rows += [g for g in form.groups if g not in rows]  # posted without their row
    for index, group_id in enumerate(rows):
        speakers = _speakers(form.group_speakers[index]) if index < len(form.group_speakers) else []
        if group_id in taking_part or group_id in spoke or speakers:
            found.append(GroupIn(group_id, group_id in spoke, tuple(speakers)))
    return found


def parse_year(value: str) -> int | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or not 1949 <= int(cleaned) <= 2200:
        raise UserError(
            f"「年度」无效：{cleaned}（应为 1949–2200 的年份）",
            f"'year': {cleaned} is not a year from 1949 to 2200",
        )
    return int(cleaned)


def parse_meeting_form(form: MeetingForm, *, date_required: bool = True) -> Parsed:
    held_on = parse_day(form.held_on, "会议日期", "meeting date")
    if held_on is None and date_required:
        raise UserError("请填写「会议日期」", "'meeting date' is required")
    return Parsed(
        held_on=held_on,
        plan_topic_id=parse_id(form.plan_topic_id, "计划议题", "plan topic"),
        leaders=parse_leaders(form),
        groups=parse_groups(form),
        version=parse_id(form.version, "版本", "version"),
    )


# --- the values the form shows ------------------------------------------------------------


def _leader_rows(leaders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blank = [{"name": "", "title": "", "roles": ["present"]}] * BLANK_LEADER_ROWS
    return leaders + blank


def values_from_form(form: MeetingForm) -> dict[str, Any]:
    """What was typed, in the shape the template shows (a form re-shown keeps it all)."""
    roles = _roles_by_row(form)
    leaders = [
        {
            "name": name,
            "title": form.leader_title[row] if row < len(form.leader_title) else "",
            "roles": roles.get(row, []),
        }
        for row, name in enumerate(form.leader_name)
        if name.strip() or (row < len(form.leader_title) and form.leader_title[row].strip())
    ]
    speakers = {
        group_id: form.group_speakers[index]
        for index, group_id in enumerate(form.group_row)
        if index < len(form.group_speakers)
    }
    groups = {
        group_id: {
            "on": group_id in form.groups,
            "spoke": group_id in form.spoke,
            "speakers": speakers.get(group_id, ""),
        }
        for group_id in GROUPS
    }
    values = form.model_dump(exclude={"leader_name", "leader_title", "leader_role"})
    values.update(leaders=_leader_rows(leaders), group_values=groups)
    return values


def values_from_meeting(meeting: Consultation) -> dict[str, Any]:
    by_group = {g.group_id: g for g in meeting.groups}
    return {
        "kind": meeting.kind,
        "held_on": meeting.held_on.isoformat(),
        "topic": meeting.topic,
        "title": meeting.title,
        "region_code": meeting.region_code,
        "place": meeting.place,
        "plan_topic_id": meeting.plan_topic_id or "",
        "summary": meeting.summary,
        "chain_ids": meeting.chain_ids,
        "leaders": _leader_rows(
            [
                {"name": x.name, "title": x.title, "roles": x.roles.split(",") if x.roles else []}
                for x in meeting.leaders
            ]
        ),
        "group_values": {
            group_id: {
                "on": group_id in by_group,
                "spoke": bool(by_group[group_id].spoke) if group_id in by_group else False,
                "speakers": by_group[group_id].speakers if group_id in by_group else "",
            }
            for group_id in GROUPS
        },
        "report_text": "",
        "version": meeting.version,
    }


def values_from_draft(draft: MeetingDraft, chain_ids: list[str]) -> dict[str, Any]:
    """An intake draft as the form to confirm: `chain_ids` are the draft's chains the person
    may choose (the visible ones)."""
    by_group = {p.id: p for p in draft.participants}
    kind = ""
    if draft.kind.kind == "consultation":
        kind = draft.kind.consultation_kind or "other"
    topic = draft.topic.text if draft.topic else (draft.meeting_name or draft.title or "")
    return {
        "kind": kind,
        "held_on": draft.date.value.isoformat() if draft.date and draft.date.value else "",
        "topic": topic,
        "title": draft.meeting_name or "",
        "region_code": draft.region.region_code if draft.region else "",
        "place": "",
        "plan_topic_id": "",
        "summary": "",
        "chain_ids": [c.chain_id for c in draft.chains if c.chain_id in chain_ids],
        "leaders": _leader_rows(
            [{"name": x.name, "title": x.title, "roles": list(x.roles)} for x in draft.leaders]
        ),
        "group_values": {
            group_id: {
                "on": group_id in by_group,
                "spoke": by_group[group_id].spoke if group_id in by_group else False,
                "speakers": "、".join(by_group[group_id].speakers) if group_id in by_group else "",
            }
            for group_id in GROUPS
        },
        "report_text": draft.text,
        "version": "",
    }


def plan_topic_choices(session: Session, actor: Actor) -> list[tuple[str, list[Any]]]:
    """(plan title, its topics) of every plan, newest first; none for those who may not
    read the plans."""
    if not may(actor, Action.view, Target(Kind.consultation_plan)):
        return []
    return [(plan.title, list(plan.topics)) for plan in list_plans(session, actor)]


def suggested_plan_topic(plan_topics: list[tuple[str, list[Any]]], draft: MeetingDraft) -> str:
    """The plan topic the draft's meeting was held for: the one topic of its year's plan
    with the same topic text, if there is exactly one."""
    if draft.topic is None or draft.date is None or draft.date.year is None:
        return ""
    wanted = draft.topic.text.strip()
    found = [
        topic.id
        for _, topics in plan_topics
        for topic in topics
        if topic.topic.strip() == wanted and topic.plan.year == draft.date.year
    ]
    return str(found[0]) if len(found) == 1 else ""


def form_context() -> dict[str, Any]:
    """The fixed choices of the form."""
    return {"group_sections": group_sections(), "leader_roles": LEADER_ROLES}
