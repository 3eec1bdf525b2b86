"""Tables of the CPPCC workflow (DESIGN §3: cppcc, consultation, suggestion / proposal /
opinion_report, handling_unit, handling, answer, member, sector, duty_record).

- members (委员) with their party or sector (`groups.GROUPS`) and, optionally, the account
  they log in with;
- yearly consultation plans (协商计划) of topics by kind, and the consultation meetings held
  (date, topic, region, chains, leaders, the parties and sectors that took part, attendance
  of members, the workflow cases the meeting raised);
- submissions: suggestions raised at a meeting (意见建议), proposals (提案, a lead proposer and
  co-signers) and public-opinion reports (社情民意信息). Each is handled by one or more
  workflow units (`units`), each of which answers; its result is tracked with a status,
  progress and dated milestones (as Decidim's accountability module does); it may be merged
  into another or split into several, and every change is a history row;
- member duty records (履职) and the yearly duty scoring rules.

Same conventions as `workflow.models`: chains by atlas id, enterprises by `uscc`, `version`
columns checked on every UPDATE, naive-UTC timestamps, plain local dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chainatlas.cppcc.vocabulary import (
    PLANNED_KINDS,
    Attendance,
    ConsultationKind,
    DutyKind,
    HandlingState,
    ResultStatus,
    SubmissionKind,
    SubmissionState,
)
from chainatlas.db.base import Base, utcnow
from chainatlas.workflow.models import Unit


def _one_of(column: str, values: type[StrEnum] | tuple[StrEnum, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _percent(column: str) -> str:
    return f"{column} IS NULL OR ({column} >= 0 AND {column} <= 100)"


# --- members --------------------------------------------------------------------------------


class Member(Base):
    """A CPPCC member (政协委员). `group_id` is the party or sector (界别) from the reference
    list in `groups`; it is checked by the services, not by a constraint, so the list can
    grow without a migration."""

    __tablename__ = "cppcc_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    title: Mapped[str] = mapped_column(String(128), default="")  # 政协职务，如 常委
    employer: Mapped[str] = mapped_column(String(200), default="")  # 工作单位及职务
    phone: Mapped[str] = mapped_column(String(32), default="")
    # the account the member logs in with: its duty records are the member's own
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


# --- consultation plans and meetings --------------------------------------------------------


class ConsultationPlan(Base):
    """The yearly consultation plan (年度协商计划) of a region ("" = the deployment's own)."""

    __tablename__ = "cppcc_plans"
    __table_args__ = (
        UniqueConstraint("year", "region_code"),
        CheckConstraint("year >= 1949 AND year <= 2200", name="year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    topics: Mapped[list[PlanTopic]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="PlanTopic.position",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class PlanTopic(Base):
    """One planned consultation: its kind, topic, the chain it is about, when and who leads."""

    __tablename__ = "cppcc_plan_topics"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PLANNED_KINDS), name="kind"),
        CheckConstraint(
            "planned_month IS NULL OR (planned_month >= 1 AND planned_month <= 12)",
            name="planned_month",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_plans.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(200))
    chain_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    planned_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lead: Mapped[str] = mapped_column(String(200), default="")  # 牵头专委会 / 单位
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[ConsultationPlan] = relationship(back_populates="topics")


class Consultation(Base):
    """A consultation meeting (协商会议) as held."""

    __tablename__ = "cppcc_consultations"
    __table_args__ = (CheckConstraint(_one_of("kind", ConsultationKind), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")  # the meeting's name
    topic: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    plan_topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("cppcc_plan_topics.id", ondelete="SET NULL"), nullable=True, index=True
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    # the report or article the record was read from (document intake), kept as evidence
    report_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    chains: Mapped[list[ConsultationChain]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="ConsultationChain.chain_id",
        lazy="selectin",
    )
    groups: Mapped[list[ConsultationGroup]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="ConsultationGroup.position",
        lazy="selectin",
    )
    leaders: Mapped[list[ConsultationLeader]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="ConsultationLeader.position",
        lazy="selectin",
    )
    attendance: Mapped[list[AttendanceRecord]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="AttendanceRecord.member_id",
        lazy="selectin",
    )
    cases: Mapped[list[ConsultationCase]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", lazy="selectin"
    )
    plan_topic: Mapped[PlanTopic | None] = relationship(lazy="joined")

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}

    @property
    def chain_ids(self) -> list[str]:
        return [c.chain_id for c in self.chains]


class ConsultationChain(Base):
    __tablename__ = "cppcc_consultation_chains"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="CASCADE"), primary_key=True
    )
    chain_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)

    consultation: Mapped[Consultation] = relationship(back_populates="chains")


class ConsultationGroup(Base):
    """A party, federation or sector that took part in the meeting (and whether it spoke)."""

    __tablename__ = "cppcc_consultation_groups"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    spoke: Mapped[bool] = mapped_column(Boolean, default=False)
    speakers: Mapped[str] = mapped_column(String(400), default="")  # names, 、-separated

    consultation: Mapped[Consultation] = relationship(back_populates="groups")


class ConsultationLeader(Base):
    """A leader present (出席领导): name, title as written, and whether chairing or speaking."""

    __tablename__ = "cppcc_consultation_leaders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128), default="")
    roles: Mapped[str] = mapped_column(String(64), default="")  # chair,speech,present

    consultation: Mapped[Consultation] = relationship(back_populates="leaders")


class AttendanceRecord(Base):
    """Whether a member attended the meeting: present, absent or excused (请假)."""

    __tablename__ = "cppcc_attendance"
    __table_args__ = (CheckConstraint(_one_of("status", Attendance), name="status"),)

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")

    consultation: Mapped[Consultation] = relationship(back_populates="attendance")
    member: Mapped[Member] = relationship(lazy="joined")


class ConsultationCase(Base):
    """A workflow case (企业诉求/难题) the meeting raised for a member unit to solve."""

    __tablename__ = "cppcc_consultation_cases"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    consultation: Mapped[Consultation] = relationship(back_populates="cases")


# --- submissions: suggestions, proposals, opinion reports -----------------------------------


class Submission(Base):
    """A suggestion (意见建议), proposal (提案) or public-opinion report (社情民意信息): who
    raised it, where, the units handling it and their answers, and its result."""

    __tablename__ = "cppcc_submissions"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SubmissionKind), name="kind"),
        CheckConstraint(_one_of("state", SubmissionState), name="state"),
        CheckConstraint(_one_of("status", ResultStatus), name="status"),
        CheckConstraint(_percent("progress"), name="progress"),
        # Decidim: a done result is complete
        CheckConstraint("status <> 'done' OR progress = 100", name="done_complete"),
        CheckConstraint("merged_into_id IS NULL OR state = 'merged'", name="merged_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    number: Mapped[str] = mapped_column(String(32), default="")  # 编号，如 提案第 45 号
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    raised_on: Mapped[date] = mapped_column(Date, index=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # party / sector
    # the member who raised it (a proposal's lead proposer)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("cppcc_members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    chain_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    state: Mapped[str] = mapped_column(
        String(16), default=SubmissionState.registered.value, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=ResultStatus.planned.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[str] = mapped_column(Text, default="")  # what was done (落实情况)
    # checked at commit: a submission may be merged into a later one, and a backup restores
    # rows in id order
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "cppcc_submissions.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        ),
        nullable=True,
        index=True,
    )
    split_from_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "cppcc_submissions.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        ),
        nullable=True,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    member: Mapped[Member | None] = relationship(lazy="joined")
    consultation: Mapped[Consultation | None] = relationship(lazy="joined")
    signers: Mapped[list[Signer]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="Signer.position",
        lazy="selectin",
    )
    handlings: Mapped[list[Handling]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by=lambda: [Handling.lead.desc(), Handling.id],
        lazy="selectin",
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by=lambda: [Milestone.reached_on, Milestone.id],
        lazy="selectin",
    )
    history: Mapped[list[SubmissionChange]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="SubmissionChange.id",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class Signer(Base):
    """A co-signer of a proposal (联名 / 附议)."""

    __tablename__ = "cppcc_submission_signers"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_submissions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    submission: Mapped[Submission] = relationship(back_populates="signers")
    member: Mapped[Member] = relationship(lazy="joined")


class Handling(Base):
    """A handling unit of a submission (承办单位: the lead 主办 or a co-handling 协办 unit),
    its deadline and its answer. Each unit answers on its own, so each row is versioned."""

    __tablename__ = "cppcc_handlings"
    __table_args__ = (
        UniqueConstraint("submission_id", "unit_id"),
        CheckConstraint(_one_of("state", HandlingState), name="state"),
        CheckConstraint("state <> 'answered' OR answered_on IS NOT NULL", name="answered_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_submissions.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=HandlingState.assigned.value)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    assigned_by: Mapped[str] = mapped_column(String(64), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answered_by: Mapped[str] = mapped_column(String(128), default="")  # who signs the answer
    answered_user: Mapped[str] = mapped_column(String(64), default="")  # who entered it
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    submission: Mapped[Submission] = relationship(back_populates="handlings")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class Milestone(Base):
    """A dated step towards the result (Decidim's timeline entry), with the progress then."""

    __tablename__ = "cppcc_milestones"
    __table_args__ = (CheckConstraint(_percent("progress"), name="progress"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_submissions.id", ondelete="CASCADE"), index=True
    )
    reached_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    submission: Mapped[Submission] = relationship(back_populates="milestones")


class SubmissionChange(Base):
    """One recorded change of a submission: who, when, the action, the state from and to, a
    note and the details (JSON: fields changed, units, merged or split ids)."""

    __tablename__ = "cppcc_submission_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_submissions.id", ondelete="CASCADE"), index=True
    )
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

    submission: Mapped[Submission] = relationship(back_populates="history")


# --- member duty records --------------------------------------------------------------------


class DutyRecord(Base):
    """One member action that counts for the duty record (履职): an enterprise visit, an
    investment event, research, a speech, a proposal, a bank–enterprise matchmaking or a
    village pairing; optionally about chains, an enterprise, a case, a meeting, a proposal."""

    __tablename__ = "cppcc_duty_records"
    __table_args__ = (CheckConstraint(_one_of("kind", DutyKind), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cppcc_members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    done_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True
    )
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("cppcc_consultations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("cppcc_submissions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    member: Mapped[Member] = relationship(lazy="joined")
    chains: Mapped[list[DutyRecordChain]] = relationship(
        back_populates="duty_record",
        cascade="all, delete-orphan",
        order_by="DutyRecordChain.chain_id",
        lazy="selectin",
    )

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}

    @property
    def chain_ids(self) -> list[str]:
        return [c.chain_id for c in self.chains]


class DutyRecordChain(Base):
    __tablename__ = "cppcc_duty_record_chains"

    duty_record_id: Mapped[int] = mapped_column(
        ForeignKey("cppcc_duty_records.id", ondelete="CASCADE"), primary_key=True
    )
    chain_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)

    duty_record: Mapped[DutyRecord] = relationship(back_populates="chains")


class DutyScoring(Base):
    """The duty scoring rules of one year (JSON of `scoring.ScoringRules`)."""

    __tablename__ = "cppcc_duty_scoring"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}
