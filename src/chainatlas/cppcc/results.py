"""The result of a submission, tracked as Decidim's accountability module does: a status
(planned → in_progress → done, or not_adopted), a progress in percent, a text saying what
was done, and dated milestones (timeline entries), each possibly moving the progress on.

A done result is complete: choosing `done` sets the progress to 100 (a different progress
given with it is refused), as the database also checks. Handling units report on what they
handle; the CPPCC staff on everything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from chainatlas.cppcc import fields
from chainatlas.cppcc.models import Milestone, Submission
from chainatlas.cppcc.suggestions import editable, finish, label, log
from chainatlas.cppcc.vocabulary import RESULT_STATUS_NAMES, ResultStatus, name_of
from chainatlas.errors import UserError
from chainatlas.workflow.access import Action, Actor
from chainatlas.workflow.edits import choice, text


def status_name(status: str, lang: str = "zh") -> str:
    return name_of(RESULT_STATUS_NAMES, status, lang)


def _apply(
    submission: Submission,
    status: str | None,
    progress: float | None,
    result: str | None,
) -> dict[str, Any]:
    """Set the result fields; return what changed."""
    new_status = (
        submission.status
        if status is None
        else choice(status, RESULT_STATUS_NAMES, "落实状态", "result status")
    )
    new_progress = fields.percent(progress, "落实进度", "progress")
    if new_status == ResultStatus.done:
        if new_progress is not None and new_progress != 100:
            raise UserError(
                f"「已落实」的进度应为 100%（现为 {new_progress:g}%）",
                f"a done result is 100% complete (got {new_progress:g}%)",
            )
        new_progress = 100.0
    changed: dict[str, Any] = {}
    if new_status != submission.status:
        changed["status"] = new_status
    if new_progress is not None and new_progress != submission.progress:
        changed["progress"] = new_progress
    if result is not None:
        cleaned = text(result, 20000, "落实情况", "result", required=False)
        if cleaned != submission.result:
            changed["result"] = cleaned
    for key, value in changed.items():
        setattr(submission, key, value)
    return changed


def update_result(
    session: Session,
    actor: Actor,
    submission_id: int,
    *,
    expected_version: int | None,
    status: str | None = None,
    progress: float | None = None,
    result: str | None = None,
    note: str = "",
) -> Submission:
    submission = editable(session, actor, submission_id, Action.track, expected_version)
    changed = _apply(submission, status, progress, result)
    if not changed:
        return submission
    log(
        submission,
        actor,
        Action.track.value,
        submission.state,
        text(note, 2000, "说明", "note", required=False),
        changed,
    )
    return finish(session, actor, submission, "track", changed)


def add_milestone(
    session: Session,
    actor: Actor,
    submission_id: int,
    *,
    expected_version: int | None,
    reached_on: date,
    title: str,
    description: str = "",
    progress: float | None = None,
    status: str | None = None,
) -> Milestone:
    """A dated step (e.g. 2025-09-01 出台扶持政策); with `progress` (and `status`) the
    submission's result moves on with it."""
    submission = editable(session, actor, submission_id, Action.track, expected_version)
    if reached_on < submission.raised_on:
        raise UserError(
            f"节点日期（{reached_on}）不能早于提出日期（{submission.raised_on}）",
            f"the milestone date ({reached_on}) cannot be before the day "
            f"{label(submission, 'en')} was raised ({submission.raised_on})",
        )
    milestone = Milestone(
        reached_on=reached_on,
        title=text(title, 200, "节点名称", "milestone title", required=True),
        description=text(description, 4000, "节点说明", "milestone description", required=False),
        progress=fields.percent(progress, "节点进度", "milestone progress"),
        created_by=actor.username,
    )
    changed = _apply(submission, status, progress, None)
    submission.milestones.append(milestone)
    detail = {"reached_on": reached_on.isoformat(), "title": milestone.title, **changed}
    log(submission, actor, "milestone", submission.state, milestone.description, detail)
    finish(session, actor, submission, "milestone", detail)
    return milestone
