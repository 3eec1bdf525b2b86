"""Tables of the chain-chief system (DESIGN §3 identifiers: chain_chief, chain_office,
member_unit, project, case, review_meeting).

Chains and nodes are referenced by their atlas ids, enterprises by `uscc`, users by
`users.id`. Editable records carry a `version` column that SQLAlchemy checks on every
UPDATE (`version_id_col`): an edit made from a stale copy updates no row and is refused
(see `workflow.edits`). Timestamps are naive UTC (`db.base.utcnow`); dates a person enters
(deadlines, signing dates, meeting dates) are plain local dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chainatlas.db.base import Base, utcnow


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# --- organisation ---------------------------------------------------------------------------


class UnitKind(StrEnum):
    chain_office = "chain_office"  # 链长办
    member_unit = "member_unit"  # 成员单位
    other = "other"  # 其他（如园区管委会、商协会）


class ChainRole(StrEnum):
    """The part a unit plays for one chain (a bureau may lead one chain and serve another)."""

    chain_office = "chain_office"
    member_unit = "member_unit"


class Unit(Base):
    """A department or body that acts on chains: a chain office, a member unit or other."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint(_one_of("kind", UnitKind), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=UnitKind.member_unit.value)
    contact_person: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    chains: Mapped[list[ChainUnit]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", lazy="selectin"
    )
    users: Mapped[list[UnitUser]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class UnitUser(Base):
    """A user belongs to a unit (a user may belong to several)."""

    __tablename__ = "unit_users"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    unit: Mapped[Unit] = relationship(back_populates="users")


class ChainUnit(Base):
    """A unit serves a chain, as its chain office or as a member unit."""

    __tablename__ = "chain_units"
    __table_args__ = (CheckConstraint(_one_of("role", ChainRole), name="role"),)

    chain_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[Unit] = relationship(back_populates="chains")


class ChainChief(Base):
    """A chain chief (链长): a senior leader named for a chain; a chain may have several
    (链长 and 副链长), listed in `position` order."""

    __tablename__ = "chain_chiefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- projects -------------------------------------------------------------------------------


class ProjectStage(StrEnum):
    lead = "lead"  # 线索
    negotiating = "negotiating"  # 洽谈
    signed = "signed"  # 签约
    started = "started"  # 开工
    in_production = "in_production"  # 投产
    lost = "lost"  # 流失
    on_hold = "on_hold"  # 暂缓


STAGE_NAMES: dict[str, tuple[str, str]] = {
    ProjectStage.lead: ("线索", "lead"),
    ProjectStage.negotiating: ("洽谈", "negotiating"),
    ProjectStage.signed: ("签约", "signed"),
    ProjectStage.started: ("开工", "started"),
    ProjectStage.in_production: ("投产", "in production"),
    ProjectStage.lost: ("流失", "lost"),
    ProjectStage.on_hold: ("暂缓", "on hold"),
}


class Project(Base):
    """An investment project in the pipeline (招商项目库)."""

    __tablename__ = "projects"
    __table_args__ = (CheckConstraint(_one_of("stage", ProjectStage), name="stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    investor_name: Mapped[str] = mapped_column(String(200))
    # the investor as a warehouse enterprise, when it is one
    investor_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    # the target list the project came from (region, chain, node of that list)
    target_region_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    target_chain_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # where the project lands (6-digit code; "" = the deployment's own region)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    chain_id: Mapped[str] = mapped_column(String(64), index=True)
    node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount_wan: Mapped[float | None] = mapped_column(Float, nullable=True)  # 投资额（万元）
    park: Mapped[str] = mapped_column(String(200), default="")  # 落地园区 / 地块
    # responsible unit (责任单位)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    stage: Mapped[str] = mapped_column(String(16), default=ProjectStage.lead.value, index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    started_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    production_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    history: Mapped[list[ProjectStageChange]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="ProjectStageChange.id",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class ProjectStageChange(Base):
    """One dated stage change of a project: who, when, from, to, why."""

    __tablename__ = "project_stage_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    username: Mapped[str] = mapped_column(String(64), default="")
    from_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)  # None: created
    to_stage: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="history")


# --- cases ----------------------------------------------------------------------------------


class CaseSource(StrEnum):
    enterprise = "enterprise"  # 企业反映
    member = "member"  # 成员单位提出
    visit = "visit"  # 走访发现
    meeting = "meeting"  # 调度会议定


class CaseCategory(StrEnum):
    land = "land"  # 用地
    energy = "energy"  # 用能
    finance = "finance"  # 融资
    talent = "talent"  # 人才
    approvals = "approvals"  # 审批
    logistics = "logistics"  # 物流
    market = "market"  # 市场
    other = "other"  # 其他


class CaseState(StrEnum):
    open = "open"  # 待分派
    assigned = "assigned"  # 已交办
    in_progress = "in_progress"  # 办理中
    resolved = "resolved"  # 已办结
    confirmed = "confirmed"  # 企业已确认
    reopened = "reopened"  # 重新办理


SOURCE_NAMES: dict[str, tuple[str, str]] = {
    CaseSource.enterprise: ("企业反映", "enterprise"),
    CaseSource.member: ("成员单位提出", "member unit"),
    CaseSource.visit: ("走访发现", "visit"),
    CaseSource.meeting: ("调度会议定", "meeting"),
}
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    CaseCategory.land: ("用地", "land"),
    CaseCategory.energy: ("用能", "energy"),
    CaseCategory.finance: ("融资", "finance"),
    CaseCategory.talent: ("人才", "talent"),
    CaseCategory.approvals: ("审批", "approvals"),
    CaseCategory.logistics: ("物流", "logistics"),
    CaseCategory.market: ("市场", "market"),
    CaseCategory.other: ("其他", "other"),
}
STATE_NAMES: dict[str, tuple[str, str]] = {
    CaseState.open: ("待分派", "open"),
    CaseState.assigned: ("已交办", "assigned"),
    CaseState.in_progress: ("办理中", "in progress"),
    CaseState.resolved: ("已办结", "resolved"),
    CaseState.confirmed: ("企业已确认", "confirmed"),
    CaseState.reopened: ("重新办理", "reopened"),
}
# a case in one of these states is done: it can no longer be overdue
CLOSED_STATES = frozenset({CaseState.resolved.value, CaseState.confirmed.value})


class Case(Base):
    """An enterprise request, bottleneck or difficulty to resolve (企业诉求/堵点/难题)."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_one_of("state", CaseState), name="state"),
        CheckConstraint(_one_of("source", CaseSource), name="source"),
        CheckConstraint(_one_of("category", CaseCategory), name="category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    chain_id: Mapped[str] = mapped_column(String(64), index=True)
    node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the member unit the case is assigned to, and by when it must be resolved
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=CaseState.open.value, index=True)
    raised_on: Mapped[date] = mapped_column(Date)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # set when the case passed its deadline unresolved: it then shows for the chain office
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    # the review meeting whose decision made this case an action item
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_meetings.id", ondelete="SET NULL"), nullable=True, index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    history: Mapped[list[CaseChange]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="CaseChange.id",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class CaseChange(Base):
    """One recorded change of a case: who, when, the action, the state from and to, a note
    and, for edits, the fields changed (JSON)."""

    __tablename__ = "case_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # None: created
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")

    case: Mapped[Case] = relationship(back_populates="history")


# --- review meetings ------------------------------------------------------------------------


class ReviewMeeting(Base):
    """A chain's review meeting (调度会): who came, what was reviewed, what was decided."""

    __tablename__ = "review_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[str] = mapped_column(String(64), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    chair: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # the agenda was built on `agenda_day` with projects stalled for `stalled_days` days
    stalled_days: Mapped[int] = mapped_column(Integer, default=30)
    agenda_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="MeetingAttendee.position",
        lazy="selectin",
    )
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="AgendaItem.position",
        lazy="selectin",
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        order_by="Decision.position",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class MeetingAttendee(Base):
    __tablename__ = "review_meeting_attendees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128), default="")
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), nullable=True
    )

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="attendees")


class AgendaReason(StrEnum):
    overdue = "overdue"  # 逾期诉求
    open = "open"  # 在办诉求
    stalled = "stalled"  # 停滞项目


class AgendaItem(Base):
    """One agenda entry, kept as built so the minutes say what was on the table even after
    the case or project moved on."""

    __tablename__ = "review_meeting_agenda"
    __table_args__ = (CheckConstraint(_one_of("reason", AgendaReason), name="reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), nullable=True
    )
    # what the item said when the agenda was built (title, state, unit, deadline / days)
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="agenda")


class Decision(Base):
    """A decision of the meeting; one with an owner unit and deadline became a case."""

    __tablename__ = "review_meeting_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
    )

    meeting: Mapped[ReviewMeeting] = relationship(back_populates="decisions")
    case: Mapped[Case | None] = relationship(lazy="joined")


class KpiWeights(Base):
    """The assessment weights of one year (考核权重): metric id → weight, as JSON; the
    KPI page's defaults for periods starting that year (`workflow.kpi_weights`)."""

    __tablename__ = "wf_kpi_weights"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    weights: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}
