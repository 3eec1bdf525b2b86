"""How every workflow edit is made: refused when made from a stale copy (optimistic
locking), flushed so a concurrent change is detected inside the service, and written to the
audit log in the same transaction.

Two guards, because edits arrive two ways. A form carries the `version` it was loaded with:
`check_version` compares it with the row. Two sessions racing on the same row both pass that
check; the second UPDATE then matches no row (`version_id_col` adds `AND version = …`) and
`flush` turns SQLAlchemy's StaleDataError into the same conflict.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from chainatlas.db.audit import record
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor

# deadlines and meeting dates are China's calendar days; timestamps are stored in UTC
CHINA_OFFSET = timedelta(hours=8)


class Versioned(Protocol):
    id: int
    version: int


class EditConflict(UserError):
    def __init__(self, what_zh: str = "该记录", what_en: str = "this record") -> None:
        super().__init__(
            f"{what_zh}已被他人修改，请刷新后重试",
            f"{what_en} was changed by someone else; reload it and try again",
        )


def check_version(row: Versioned, expected: int | None, what_zh: str, what_en: str) -> None:
    """`expected` is the version the editor saw (None: the caller holds the row itself)."""
    if expected is not None and expected != row.version:
        raise EditConflict(what_zh, what_en)


def flush(session: Session, what_zh: str = "该记录", what_en: str = "this record") -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise EditConflict(what_zh, what_en) from exc


def audit(
    session: Session, actor: Actor, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    record(session, actor.username, action, target, detail, user_id=actor.user_id)


def local_day(at: datetime) -> date:
    """The China calendar day of a naive UTC timestamp."""
    return (at + CHINA_OFFSET).date()


def local_today() -> date:
    return local_day(datetime.now(UTC).replace(tzinfo=None))


def text(value: str | None, limit: int, field_zh: str, field_en: str, *, required: bool) -> str:
    """A trimmed text field; a UserError naming the field when missing or too long."""
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise UserError(f"请填写{field_zh}", f"{field_en} is required")
    if len(cleaned) > limit:
        raise UserError(
            f"{field_zh}过长：最多 {limit} 个字符（现为 {len(cleaned)}）",
            f"{field_en} is too long: at most {limit} characters (got {len(cleaned)})",
        )
    return cleaned


def choice(value: str, allowed: dict[str, tuple[str, str]], field_zh: str, field_en: str) -> str:
    """`value` must be one of `allowed` (identifier → (zh, en) names); a name works too."""
    cleaned = (value or "").strip()
    for key, names in allowed.items():
        if cleaned == key or cleaned in names:
            return str(key)
    options_zh = "、".join(f"{names[0]}（{key}）" for key, names in allowed.items())
    options_en = ", ".join(str(key) for key in allowed)
    raise UserError(
        f"{field_zh}「{cleaned}」无效，可选：{options_zh}",
        f"invalid {field_en} {cleaned!r}; one of: {options_en}",
    )
