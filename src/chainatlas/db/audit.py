"""The audit log: who changed what, when (issue #5). Every service that changes the app
database or the warehouse writes one entry in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from chainatlas.db.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(256), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")


def record(
    session: Session,
    username: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        user_id=user_id,
        username=username,
        action=action,
        target=target,
        detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
    )
    session.add(entry)
    return entry
