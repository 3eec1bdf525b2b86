"""调度会 (review meetings): the list, the form that creates a meeting with its agenda built
from the chain's open and overdue cases and stalled projects, a meeting's page (agenda,
decisions that become cases with an owner unit and a deadline or reassign a case on the
table, the summary) and its minutes as DOCX and PDF. Changes go through
`workflow.meetings`, which checks the access rules, locks optimistically and audits."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.errors import UserError
from chainatlas.web.routes._workflow import (
    DOCX_TYPE,
    RowId,
    attachment,
    chain_choices,
    check_chain,
    failure_status,
    may_anywhere,
    message,
    page_context,
    parse_day,
    parse_id,
    reraise_refusal,
    units_for_chain,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow import meetings as meeting_service
from chainatlas.workflow.access import Action, Kind, Target, may
from chainatlas.workflow.cases import is_overdue
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.minutes import minutes_docx, minutes_of, minutes_pdf
from chainatlas.workflow.models import (
    CATEGORY_NAMES,
    CLOSED_STATES,
    STAGE_NAMES,
    STATE_NAMES,
    Case,
    ReviewMeeting,
)

router = APIRouter()
MAX_ATTENDEES = 200
# "姓名 职务", "姓名，职务", "姓名（职务）" or "name, title": one attendee per line
_ATTENDEE_SPLIT = re.compile(r"\s*[,，、;；\t]\s*|\s+")


class MeetingForm(BaseModel):
    chain_id: str = Field("", max_length=100)
    held_on: str = Field("", max_length=20)
    title: str = Field("", max_length=1000)
    place: str = Field("", max_length=1000)
    chair: str = Field("", max_length=200)
    attendees: str = Field("", max_length=20000)
    stalled_days: str = Field("", max_length=10)
    summary: str = Field("", max_length=40000)
    version: str = Field("", max_length=20)


class DecisionForm(BaseModel):
    decision: str = Field("", max_length=10000)
    mode: str = Field("note", max_length=16)  # note | new_case | reassign
    unit_id: str = Field("", max_length=20)
    deadline: str = Field("", max_length=20)
    case_id: str = Field("", max_length=20)
    title: str = Field("", max_length=1000)
    category: str = Field("other", max_length=32)
    enterprise_name: str = Field("", max_length=1000)


def parse_attendees(text: str) -> list[meeting_service.AttendeeIn]:
    """One attendee a line: the name, then (after a space, comma or in brackets) the title."""
    people = []
    for line in text.splitlines():
        cleaned = line.strip().replace("（", " ").replace("）", " ").replace("(", " ")
        cleaned = cleaned.replace(")", " ").strip()
        if not cleaned:
            continue
        parts = _ATTENDEE_SPLIT.split(cleaned, maxsplit=1)
        people.append(meeting_service.AttendeeIn(parts[0], parts[1] if len(parts) > 1 else ""))
    if len(people) > MAX_ATTENDEES:
        raise UserError(
            f"「参会人员」过多：最多 {MAX_ATTENDEES} 人", f"'attendees': at most {MAX_ATTENDEES}"
        )
    return people


def _stalled_days(value: str) -> int:
    cleaned = value.strip()
    if not cleaned:
        return meeting_service.DEFAULT_STALLED_DAYS
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= 3650:
        raise UserError(
            f"「停滞天数」无效：{cleaned}（应为 1–3650 的整数）",
            f"'stalled days': {cleaned} (a whole number from 1 to 3650)",
        )
    return int(cleaned)


@router.get("/meetings", include_in_schema=False)
def meetings_page(
    request: Request, user: Viewer, chain: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app, actor, chain)
        found = meeting_service.list_meetings(session, actor, chain_id=chain_id)
        return render(
            request,
            "wf_meetings.html",
            user,
            **page_context(request, user, actor),
            meetings=found,
            f={"chain": chain_id or ""},
            chains=chain_choices(app, actor, language(request)),
            may_create=may_anywhere(actor, Kind.review_meeting, Action.create),
        )


def _form_page(
    request: Request,
    user: User,
    form: Mapping[str, Any],
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (_session, actor):
        return render(
            request,
            "wf_meeting_form.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            form=form,
            error=error,
            allowed=may_anywhere(actor, Kind.review_meeting, Action.create),
            chains=chain_choices(app, actor, language(request)),
        )


@router.get("/meetings/new", include_in_schema=False)
def new_meeting(
    request: Request, user: Viewer, chain: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    with workflow_session(request, user) as (_session, actor):
        chain_id = check_chain(app_state(request), actor, chain)
    defaults = {
        "chain_id": chain_id or "",
        "held_on": local_today().isoformat(),
        "stalled_days": meeting_service.DEFAULT_STALLED_DAYS,
    }
    return _form_page(request, user, defaults)


@router.post("/meetings", include_in_schema=False)
def create_meeting(
    request: Request, user: Viewer, form: Annotated[MeetingForm, Form()]
) -> Response:
    try:
        held_on = parse_day(form.held_on, "会议日期", "meeting date")
        if held_on is None:
            raise UserError("请填写会议日期", "the meeting date is required")
        with workflow_session(request, user) as (session, actor):
            check_chain(app_state(request), actor, form.chain_id)
            meeting = meeting_service.create_meeting(
                session,
                actor,
                chain_id=form.chain_id,
                held_on=held_on,
                title=form.title,
                place=form.place,
                chair=form.chair,
                attendees=parse_attendees(form.attendees),
                stalled_days=_stalled_days(form.stalled_days),
            )
            meeting_id = meeting.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


def _meeting_page(
    request: Request,
    user: User,
    meeting_id: RowId,
    *,
    error: str = "",
    status_code: int = 200,
    decision: Mapping[str, Any] | None = None,
) -> Response:
    today = local_today()
    with workflow_session(request, user) as (session, actor):
        meeting = meeting_service.get_meeting(session, meeting_id, actor)
        open_cases = session.scalars(
            select(Case)
            .where(Case.chain_id == meeting.chain_id, Case.state.not_in(sorted(CLOSED_STATES)))
            .order_by(Case.deadline.asc().nulls_last(), Case.id)
        ).all()
        return render(
            request,
            "wf_meeting.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            meeting=meeting,
            may_edit=may(actor, Action.edit, Target(Kind.review_meeting, meeting.chain_id)),
            reason_names=meeting_service.REASON_NAMES,
            state_names=STATE_NAMES,
            stage_names=STAGE_NAMES,
            category_names=CATEGORY_NAMES,
            open_cases=open_cases,
            is_overdue=lambda case: is_overdue(case, today),
            unit_groups=units_for_chain(session, meeting.chain_id),
            error=error,
            decision=decision or {},
        )


@router.get("/meetings/{meeting_id}", include_in_schema=False)
def meeting_page(request: Request, user: Viewer, meeting_id: RowId) -> Response:
    return _meeting_page(request, user, meeting_id)


@router.post("/meetings/{meeting_id}/decisions", include_in_schema=False)
def add_decision(
    request: Request, user: Viewer, meeting_id: RowId, form: Annotated[DecisionForm, Form()]
) -> Response:
    """A decision: a note only, a new case (owner unit and deadline), or a case on the table
    reassigned to a unit and deadline."""
    try:
        unit_id = parse_id(form.unit_id, "责任单位", "owner unit")
        deadline = parse_day(form.deadline, "办理期限", "deadline")
        case_id = parse_id(form.case_id, "诉求", "case")
        if form.mode == "new_case" and unit_id is None:
            raise UserError(
                "转为诉求需要选择「责任单位」", "a decision that becomes a case needs an owner unit"
            )
        if form.mode == "reassign" and case_id is None:
            raise UserError("请选择要重新交办的「诉求」", "choose the case to reassign")
        if form.mode == "note":
            unit_id, deadline, case_id = None, None, None
        elif form.mode == "new_case":
            case_id = None
        with workflow_session(request, user) as (session, actor):
            meeting_service.add_decision(
                session,
                actor,
                meeting_id,
                form.decision,
                unit_id=unit_id,
                deadline=deadline,
                case_id=case_id,
                title=form.title.strip(),
                category=form.category or "other",
                enterprise_name=form.enterprise_name,
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _meeting_page(
            request,
            user,
            meeting_id,
            error=message(request, exc),
            status_code=failure_status(exc),
            decision=form.model_dump(),
        )
    return RedirectResponse(f"/meetings/{meeting_id}#decisions", status_code=303)


@router.post("/meetings/{meeting_id}/agenda", include_in_schema=False)
def refresh_agenda(
    request: Request, user: Viewer, meeting_id: RowId, form: Annotated[MeetingForm, Form()]
) -> Response:
    try:
        with workflow_session(request, user) as (session, actor):
            meeting_service.refresh_agenda(
                session,
                actor,
                meeting_id,
                expected_version=parse_id(form.version, "版本", "version"),
                stalled_days=_stalled_days(form.stalled_days) if form.stalled_days else None,
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _meeting_page(
            request,
            user,
            meeting_id,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/meetings/{meeting_id}#agenda", status_code=303)


@router.post("/meetings/{meeting_id}/edit", include_in_schema=False)
def edit_meeting(
    request: Request, user: Viewer, meeting_id: RowId, form: Annotated[MeetingForm, Form()]
) -> Response:
    """The meeting's facts, attendees and summary (纪要正文)."""
    try:
        with workflow_session(request, user) as (session, actor):
            meeting_service.update_meeting(
                session,
                actor,
                meeting_id,
                expected_version=parse_id(form.version, "版本", "version"),
                held_on=parse_day(form.held_on, "会议日期", "meeting date"),
                title=form.title,
                place=form.place,
                chair=form.chair,
                summary=form.summary,
                attendees=parse_attendees(form.attendees),
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _meeting_page(
            request,
            user,
            meeting_id,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/meetings/{meeting_id}", status_code=303)


def _minutes_name(request: Request, meeting: ReviewMeeting, suffix: str) -> tuple[str, str]:
    chain = app_state(request).atlas.get(meeting.chain_id)
    day = meeting.held_on.isoformat()
    ascii_name = f"minutes-{meeting.chain_id}-{day}.{suffix}"
    if language(request) == "en":
        return ascii_name, ascii_name
    chain_name = chain.name_zh if chain is not None else meeting.chain_id
    return f"{chain_name}产业链调度会会议纪要-{day}.{suffix}", ascii_name


def _minutes(request: Request, user: User, meeting_id: RowId) -> tuple[Any, ReviewMeeting]:
    app = app_state(request)
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        meeting = meeting_service.get_meeting(session, meeting_id, actor)
        chain = app.atlas.get(meeting.chain_id)
        chain_name = None
        if chain is not None:
            chain_name = chain.name_en if lang == "en" and chain.name_en else chain.name_zh
        minutes = minutes_of(session, actor, meeting_id, chain_name=chain_name, lang=lang)
        return minutes, meeting


@router.get("/meetings/{meeting_id}/minutes.docx", include_in_schema=False)
def minutes_as_docx(request: Request, user: Viewer, meeting_id: RowId) -> Response:
    minutes, meeting = _minutes(request, user, meeting_id)
    title, ascii_name = _minutes_name(request, meeting, "docx")
    return Response(
        minutes_docx(minutes),
        media_type=DOCX_TYPE,
        headers={"Content-Disposition": attachment(title, ascii_name)},
    )


@router.get("/meetings/{meeting_id}/minutes.pdf", include_in_schema=False)
def minutes_as_pdf(request: Request, user: Viewer, meeting_id: RowId) -> Response:
    """Printed by headless Chromium (a second or two)."""
    minutes, meeting = _minutes(request, user, meeting_id)
    title, ascii_name = _minutes_name(request, meeting, "pdf")
    with tempfile.TemporaryDirectory(prefix="chainatlas-minutes-") as folder:
        body = minutes_pdf(minutes, Path(folder) / "minutes.pdf").read_bytes()
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(title, ascii_name)},
    )
