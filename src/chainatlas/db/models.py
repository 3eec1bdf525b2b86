"""Every table of the app database, imported once so the metadata is complete (Alembic's
autogenerate and the tests compare against it)."""

from __future__ import annotations

from chainatlas.accounts.models import ApiToken, User, UserChain
from chainatlas.cppcc.models import (
    AttendanceRecord,
    Consultation,
    ConsultationCase,
    ConsultationChain,
    ConsultationGroup,
    ConsultationLeader,
    ConsultationPlan,
    DutyRecord,
    DutyRecordChain,
    DutyScoring,
    Handling,
    Member,
    Milestone,
    PlanTopic,
    Signer,
    Submission,
    SubmissionChange,
)
from chainatlas.db.audit import AuditEntry
from chainatlas.db.base import Base
from chainatlas.db.jobs import Job
from chainatlas.db.marks import TargetMark
from chainatlas.workflow.models import (
    AgendaItem,
    Case,
    CaseChange,
    ChainChief,
    ChainUnit,
    Decision,
    MeetingAttendee,
    Project,
    ProjectStageChange,
    ReviewMeeting,
    Unit,
    UnitUser,
)

metadata = Base.metadata

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AttendanceRecord",
    "AuditEntry",
    "Case",
    "CaseChange",
    "ChainChief",
    "ChainUnit",
    "Consultation",
    "ConsultationCase",
    "ConsultationChain",
    "ConsultationGroup",
    "ConsultationLeader",
    "ConsultationPlan",
    "Decision",
    "DutyRecord",
    "DutyRecordChain",
    "DutyScoring",
    "Handling",
    "Job",
    "MeetingAttendee",
    "Member",
    "Milestone",
    "PlanTopic",
    "Project",
    "ProjectStageChange",
    "ReviewMeeting",
    "Signer",
    "Submission",
    "SubmissionChange",
    "TargetMark",
    "Unit",
    "UnitUser",
    "User",
    "UserChain",
    "metadata",
]
