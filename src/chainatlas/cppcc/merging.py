"""Merge (并案) and split (拆分) submissions, keeping the history of every one of them.

- merge: several submissions of one kind go into one of them (the target). Each merged one
  is closed as `merged`, keeps its own history, answers and a link (`merged_into_id`) to the
  target, whose history lists what was merged into it; a proposal's proposers and
  co-signers become co-signers of the target.
- split: one submission is divided into several new ones of the same kind (same meeting,
  raiser, day and co-signers), each linked to it (`split_from_id`); the origin is closed as
  `split` and keeps its history.

Closed submissions can no longer be handled; `suggestions.final_submission` follows the
links to where the handling went.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.cppcc import fields
from chainatlas.cppcc.models import Signer, Submission
from chainatlas.cppcc.suggestions import (
    WHAT,
    editable,
    finish,
    label,
    log,
)
from chainatlas.cppcc.vocabulary import SubmissionKind, SubmissionState
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor
from chainatlas.workflow.edits import audit, flush, text


@dataclass(frozen=True)
class SplitPart:
    title: str
    content: str = ""
    chain_id: str | None = None


def merge_submissions(
    session: Session,
    actor: Actor,
    into_id: int,
    source_ids: Sequence[int],
    *,
    expected_versions: Mapping[int, int] | None = None,
    note: str = "",
) -> Submission:
    """Merge `source_ids` into `into_id`; `expected_versions` maps ids to the versions the
    editor saw (any one changed since: EditConflict, nothing merged)."""
    versions = dict(expected_versions or {})
    sources_ids = list(dict.fromkeys(source_ids))
    if not sources_ids:
        raise UserError("请选择要合并的意见建议", "choose the submissions to merge")
    if into_id in sources_ids:
        raise UserError("不能把一件意见建议并入它自己", "a submission cannot be merged into itself")
    target = editable(session, actor, into_id, Action.merge, versions.get(into_id))
    sources = [editable(session, actor, i, Action.merge, versions.get(i)) for i in sources_ids]
    for source in sources:
        if source.kind != target.kind:
            raise UserError(
                f"{label(source)}与{label(target)}类型不同，不能合并",
                f"{label(source, 'en')} and {label(target, 'en')} are of different kinds",
            )
    note = text(note, 2000, "说明", "note", required=False)
    for source in sources:
        before = source.state
        source.state = SubmissionState.merged.value
        source.merged_into_id = target.id
        log(source, actor, Action.merge.value, before, note, {"into": target.id})
        finish(session, actor, source, "merge", {"into": target.id})
    if target.kind == SubmissionKind.proposal:
        known = {target.member_id, *(s.member_id for s in target.signers)}
        for source in sources:
            for member_id in (source.member_id, *(s.member_id for s in source.signers)):
                if member_id is not None and member_id not in known:
                    known.add(member_id)
                    target.signers.append(Signer(member_id=member_id, position=len(target.signers)))
    detail = {"merged": [s.id for s in sources]}
    log(target, actor, "merge_in", target.state, note, detail)
    return finish(session, actor, target, "merge_in", detail)


def split_submission(
    session: Session,
    actor: Actor,
    origin_id: int,
    parts: Sequence[SplitPart],
    *,
    expected_version: int | None,
    note: str = "",
    chains: Mapping[str, Chain] | None = None,
) -> list[Submission]:
    """Split `origin_id` into `parts` (at least two): new submissions, registered, to be
    assigned on their own."""
    origin = editable(session, actor, origin_id, Action.split_up, expected_version)
    if len(parts) < 2:
        raise UserError("拆分至少需要两部分", "a split needs at least two parts")
    note = text(note, 2000, "说明", "note", required=False)
    children: list[Submission] = []
    for index, part in enumerate(parts, start=1):
        child = Submission(
            kind=origin.kind,
            number=f"{origin.number}-{index}" if origin.number else "",
            title=text(
                part.title, 200, f"第 {index} 部分标题", f"title of part {index}", required=True
            ),
            content=text(
                part.content,
                20000,
                f"第 {index} 部分内容",
                f"content of part {index}",
                required=False,
            ),
            raised_on=origin.raised_on,
            consultation_id=origin.consultation_id,
            group_id=origin.group_id,
            member_id=origin.member_id,
            chain_id=fields.chain_id(part.chain_id, chains) if part.chain_id else origin.chain_id,
            state=SubmissionState.registered.value,
            status="planned",
            progress=0.0,
            split_from_id=origin.id,
            signers=[Signer(member_id=s.member_id, position=s.position) for s in origin.signers],
            created_by=actor.username,
        )
        log(child, actor, "create", None, note, {"split_from": origin.id})
        session.add(child)
        children.append(child)
    flush(session, *WHAT)
    for child in children:
        audit(
            session,
            actor,
            "cppcc.submission.add",
            f"submission:{child.id}",
            {"split_from": origin.id, "title": child.title},
        )
    before = origin.state
    origin.state = SubmissionState.split_up.value
    detail = {"parts": [c.id for c in children]}
    log(origin, actor, Action.split_up.value, before, note, detail)
    finish(session, actor, origin, "split", detail)
    return children
