"""A user's mark on a target enterprise (contacted / not relevant), kept per user and shown
to colleagues; marked firms join the exclusion list of the targets service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chainatlas.db.base import Base, utcnow


class MarkKind(StrEnum):
    contacted = "contacted"  # 已联系
    not_relevant = "not_relevant"  # 不相关


class TargetMark(Base):
    __tablename__ = "target_marks"
    __table_args__ = (UniqueConstraint("user_id", "uscc", "region_code", "chain_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    chain_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
