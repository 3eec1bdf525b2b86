"""Marks on investment targets (招商目标标记, issue #5) and the targets a user sees.

A user marks a target firm of a region × chain as contacted (已联系) or not relevant
(不相关), with a note. Marks are kept per user (`target_marks`), every change is written to
the audit log in the same transaction, and colleagues see who marked what. A user's own
marks feed the targets' exclusion mechanism (`find_targets(excluded=…)`, the same one the
exclusion-list file feeds), so marked firms leave that user's next list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.accounts.models import User
from chainatlas.atlas.model import Chain
from chainatlas.db.audit import record
from chainatlas.db.base import utcnow
from chainatlas.db.marks import MarkKind, TargetMark
from chainatlas.diagnose.pipeline import UnknownRegionError, diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.ingest.validators import USCC_CHARSET
from chainatlas.reference.regions import region_codes
from chainatlas.settings import Settings
from chainatlas.targets.model import TargetList
from chainatlas.targets.pipeline import find_targets

CLEAR = "clear"
MAX_NOTE_CHARS = 500
KIND_NAMES = {
    MarkKind.contacted.value: ("已联系", "contacted"),
    MarkKind.not_relevant.value: ("不相关", "not relevant"),
}


@dataclass(frozen=True)
class MarkView:
    """A mark as colleagues see it."""

    uscc: str
    user_id: int
    username: str
    display_name: str
    kind: str
    note: str
    node_id: str
    at: dt.datetime

    @property
    def who(self) -> str:
        return self.display_name or self.username

    def kind_name(self, lang: str) -> str:
        zh, en = KIND_NAMES.get(self.kind, (self.kind, self.kind))
        return en if lang == "en" else zh


def marked_usccs(
    session: Session, region: str, chain: str, user_id: int | None = None
) -> frozenset[str]:
    """Credit codes marked (contacted or not relevant) on region × chain — by `user_id`
    when given, else by anyone."""
    query = select(TargetMark.uscc).where(
        TargetMark.region_code == region, TargetMark.chain_id == chain
    )
    if user_id is not None:
        query = query.where(TargetMark.user_id == user_id)
    return frozenset(session.scalars(query))


def marks_by_firm(
    session: Session, region: str, chain: str, usccs: Iterable[str] | None = None
) -> dict[str, list[MarkView]]:
    """Every user's marks on region × chain (of `usccs` when given), newest first per firm."""
    query = (
        select(TargetMark, User.username, User.display_name)
        .join(User, User.id == TargetMark.user_id)
        .where(TargetMark.region_code == region, TargetMark.chain_id == chain)
        .order_by(TargetMark.uscc, TargetMark.at.desc(), TargetMark.id.desc())
    )
    if usccs is not None:
        wanted = sorted(set(usccs))
        if not wanted:
            return {}
        query = query.where(TargetMark.uscc.in_(wanted))
    out: dict[str, list[MarkView]] = {}
    for mark, username, display_name in session.execute(query):
        out.setdefault(mark.uscc, []).append(
            MarkView(
                uscc=mark.uscc,
                user_id=mark.user_id,
                username=username,
                display_name=display_name or "",
                kind=mark.kind,
                note=mark.note or "",
                node_id=mark.node_id or "",
                at=mark.at,
            )
        )
    return out


def _check(uscc: str, region: str, kind: str, note: str) -> str:
    code = uscc.strip().upper()
    if len(code) != 18 or any(ch not in USCC_CHARSET for ch in code):
        raise UserError(
            "「统一社会信用代码」无效：应为 18 位数字或大写字母",
            "'uscc' is not valid: it must be 18 digits or capital letters",
        )
    if region not in region_codes():
        raise UserError(
            f"「地区」无效：{region} 不是行政区划代码",
            f"'region' is not valid: {region} is not a region code",
        )
    if kind not in (*KIND_NAMES, CLEAR):
        raise UserError(
            "「标记」无效：应为 contacted（已联系）、not_relevant（不相关）或 clear（清除）",
            "'kind' is not valid: use contacted, not_relevant or clear",
        )
    if len(note) > MAX_NOTE_CHARS:
        raise UserError(
            f"「备注」过长：最多 {MAX_NOTE_CHARS} 个字符",
            f"'note' is too long: at most {MAX_NOTE_CHARS} characters",
        )
    return code


def set_mark(
    session: Session,
    user: User,
    *,
    uscc: str,
    region: str,
    chain: Chain,
    kind: str,
    node: str = "",
    note: str = "",
) -> TargetMark | None:
    """Mark (or re-mark) a target for `user`, or remove the user's mark (kind `clear`), and
    write the audit entry. The chain's existence and the user's right to it are the
    caller's checks; an unknown node is refused here. Returns the mark (None when cleared)."""
    note = note.strip()
    code = _check(uscc, region, kind, note)
    if node and node not in chain.node_ids:
        raise UserError(
            f"「环节」无效：产业链 {chain.id} 没有环节 {node}",
            f"'node' is not valid: chain {chain.id} has no node {node}",
        )
    existing = session.scalars(
        select(TargetMark).where(
            TargetMark.user_id == user.id,
            TargetMark.uscc == code,
            TargetMark.region_code == region,
            TargetMark.chain_id == chain.id,
        )
    ).one_or_none()
    target = f"{region}/{chain.id}/{code}"
    if kind == CLEAR:
        if existing is not None:
            session.delete(existing)
            record(
                session,
                user.username,
                "target.unmark",
                target,
                {"was": existing.kind, "node": existing.node_id},
                user_id=user.id,
            )
        return None
    if existing is None:
        existing = TargetMark(user_id=user.id, uscc=code, region_code=region, chain_id=chain.id)
        session.add(existing)
    existing.kind, existing.note, existing.node_id = kind, note, node
    existing.at = utcnow()
    record(
        session,
        user.username,
        "target.mark",
        target,
        {"kind": kind, "node": node, "note": note},
        user_id=user.id,
    )
    session.flush()
    return existing


def user_targets(
    wh: Warehouse,
    settings: Settings,
    chain: Chain,
    region_code: str,
    *,
    node_id: str | None = None,
    top: int = 20,
    excluded: Collection[str] = frozenset(),
    as_of: dt.date | None = None,
) -> TargetList:
    """The region's targets on `chain` (as `services.targets.run_targets`, with the settings'
    weights) over an open warehouse, leaving out `excluded` (a user's marked firms)."""
    if not wh.has_table("node_facts"):
        raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
    try:
        diagnosis = diagnose(wh, chain, region_code, settings.status, settings.lead_firm)
    except UnknownRegionError as exc:
        raise UserError(
            f"「地区」无效：未知的行政区划代码 {region_code}",
            f"'region' is not valid: unknown region code {region_code}",
        ) from exc
    return find_targets(
        wh,
        chain,
        diagnosis,
        node_id=node_id,
        top=top,
        excluded=frozenset(excluded),
        weights=settings.targets,
        as_of=as_of,
    )


__all__ = [
    "CLEAR",
    "KIND_NAMES",
    "MarkView",
    "marked_usccs",
    "marks_by_firm",
    "set_mark",
    "user_targets",
]
