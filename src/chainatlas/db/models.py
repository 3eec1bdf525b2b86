"""Every table of the app database, imported once so the metadata is complete (Alembic's
autogenerate and the tests compare against it)."""

from __future__ import annotations

from chainatlas.accounts.models import ApiToken, User, UserChain
from chainatlas.db.audit import AuditEntry
from chainatlas.db.base import Base
from chainatlas.db.jobs import Job
from chainatlas.db.marks import TargetMark

metadata = Base.metadata

__all__ = ["ApiToken", "AuditEntry", "Job", "TargetMark", "User", "UserChain", "metadata"]
