"""协商会议 (CPPCC consultation meetings): the list (by year, kind and chain, with the
attendance counted), the form to record a meeting (kind, date, topic, region and place,
plan topic, chains, leaders present, the parties and sectors that took part and spoke), a
meeting's page (attendance of the members, the workflow cases it raised, the suggestions
raised at it, and the "上一次意见建议办理情况" report of the previous meeting) and that
report as a print page, text and DOCX. Changes go through `cppcc.consultations`, which
checks the access rules, locks optimistically and audits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.cppcc import consultations as meeting_service
from chainatlas.cppcc import handling_report as report_service
from chainatlas.cppcc.groups import GROUPS, group_name
from chainatlas.cppcc.members import list_members
from chainatlas.cppcc.models import Consultation, Member, PlanTopic
from chainatlas.cppcc.permissions import may_any, targets
from chainatlas.cppcc.suggestions import list_submissions, state_name
from chainatlas.cppcc.vocabulary import (
    ATTENDANCE_NAMES,
    CONSULTATION_KIND_NAMES,
    RESULT_STATUS_NAMES,
    SUBMISSION_KIND_NAMES,
)
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_full_name
from chainatlas.services.cppcc_handling_docx import handling_report_docx
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._cppcc_meeting_form import (
    MeetingForm,
    form_context,
    parse_meeting_form,
    parse_year,
    plan_topic_choices,
    values_from_form,
    values_from_meeting,
)
from chainatlas.web.routes._workflow import (
    DOCX_TYPE,
    attachment,
    chain_choices,
    check_chain,
    failure_status,
    may_anywhere,
    message,
    parse_choice,
    parse_day,
    parse_id,
    reraise_refusal,
    units_for_chain,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import current_region, language, render
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Action, Actor, Kind, Scope, Target, may, require, scopes
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import CATEGORY_NAMES, CLOSED_STATES, STATE_NAMES, Case

router = APIRouter()
MAX_CASE_CHOICES = 200


class AttendanceForm(BaseModel):
    """One row per member: its id, the status chosen ("" = not recorded) and a note."""

    member_id: list[str] = Field(default_factory=list, max_length=5000)
    status: list[str] = Field(default_factory=list, max_length=5000)
    note: list[str] = Field(default_factory=list, max_length=5000)
    version: str = Field("", max_length=20)


class CaseForm(BaseModel):
    """Link a case (`case_id`) or raise a new one from the meeting."""

    case_id: str = Field("", max_length=20)
    title: str = Field("", max_length=1000)
    category: str = Field("other", max_length=32)
    chain_id: str = Field("", max_length=100)
    enterprise_name: str = Field("", max_length=1000)
    description: str = Field("", max_length=10000)
    unit_id: str = Field("", max_length=20)
    deadline: str = Field("", max_length=20)
    version: str = Field("", max_length=20)


def may_edit_meeting(actor: Actor, meeting: Consultation) -> bool:
    return may_any(actor, Action.edit, targets(Kind.consultation, chain_ids=meeting.chain_ids))


def may_submit(actor: Actor) -> bool:
    """May the actor register a suggestion somewhere (staff), or its own (a member)?"""
    granted = scopes(actor, Kind.submission, Action.create)
    return may_anywhere(actor, Kind.submission, Action.create) or (
        Scope.own in granted and actor.user_id is not None
    )


def by_group(meeting: Consultation) -> list[tuple[str | None, dict[str, int]]]:
    """Attendance counted per party or sector of the members, in the reference list's order
    (no group last)."""
    counts: dict[str | None, dict[str, int]] = {}
    for row in meeting.attendance:
        group = row.member.group_id
        counts.setdefault(group, dict.fromkeys(ATTENDANCE_NAMES, 0))[row.status] += 1
    order = {group_id: position for position, group_id in enumerate(GROUPS)}
    return sorted(counts.items(), key=lambda item: order.get(item[0] or "", len(order)))


def _region_label(code: str) -> str:
    return f"{region_full_name(code)}（{code}）" if code else ""


@router.get("/cppcc/meetings", include_in_schema=False)
def meetings_page(
    request: Request,
    user: Viewer,
    year: Annotated[str, Query(max_length=8)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    chain: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app, actor, chain)
        year_value = parse_year(year)
        kind_id = parse_choice(kind, CONSULTATION_KIND_NAMES, "协商类型", "consultation kind")
        found = meeting_service.list_consultations(
            session, actor, year=year_value, kind=kind_id, chain_id=chain_id
        )
        return render(
            request,
            "cp_meetings.html",
            user,
            **cppcc_context(request, user, actor),
            meetings=found,
            counts={m.id: meeting_service.attendance_counts(m) for m in found},
            f={"year": year_value or "", "kind": kind_id or "", "chain": chain_id or ""},
            kind_names=CONSULTATION_KIND_NAMES,
            attendance_names=ATTENDANCE_NAMES,
            chains=chain_choices(app, actor, language(request)),
            may_create=may_anywhere(actor, Kind.consultation, Action.create),
        )


def _form_page(
    request: Request,
    user: User,
    values: Mapping[str, Any],
    *,
    meeting_id: int | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        if meeting_id is None:
            allowed = may_anywhere(actor, Kind.consultation, Action.create)
            meeting = None
        else:
            meeting = meeting_service.get_consultation(session, meeting_id, actor)
            allowed = may_edit_meeting(actor, meeting)
        return render(
            request,
            "cp_meeting_form.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            **form_context(),
            form=values,
            meeting=meeting,
            error=error,
            allowed=allowed,
            kind_names=CONSULTATION_KIND_NAMES,
            chains=chain_choices(app, actor, language(request)),
            plan_topics=plan_topic_choices(session, actor),
            group_name=group_name,
        )


@router.get("/cppcc/meetings/new", include_in_schema=False)
def new_meeting(
    request: Request,
    user: Viewer,
    plan_topic: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The form; from a plan topic (?plan_topic=) it starts with the topic's kind, topic
    and chain."""
    values: dict[str, Any] = {
        "kind": "",
        "held_on": local_today().isoformat(),
        "region_code": current_region(request, user),
        "chain_ids": [],
        "leaders": values_from_form(MeetingForm())["leaders"],
        "group_values": {},
    }
    topic_id = parse_id(plan_topic, "计划议题", "plan topic")
    if topic_id is not None:
        with workflow_session(request, user) as (session, actor):
            require(actor, Action.view, Target(Kind.consultation_plan))
            topic = session.get(PlanTopic, topic_id)
            if topic is None:
                raise UserError(
                    f"没有编号为 {topic_id} 的计划议题", f"no plan topic with id {topic_id}"
                )
            values.update(
                kind=topic.kind,
                topic=topic.topic,
                plan_topic_id=topic.id,
                chain_ids=[topic.chain_id] if topic.chain_id else [],
            )
    return _form_page(request, user, values)


def _check_chains(request: Request, actor: Actor, chain_ids: list[str]) -> None:
    app = app_state(request)
    for chain_id in chain_ids:
        check_chain(app, actor, chain_id)


@router.post("/cppcc/meetings", include_in_schema=False)
def create_meeting(
    request: Request, user: Viewer, form: Annotated[MeetingForm, Form()]
) -> Response:
    app = app_state(request)
    try:
        parsed = parse_meeting_form(form)
        with workflow_session(request, user) as (session, actor):
            _check_chains(request, actor, form.chain_ids)
            meeting = meeting_service.create_consultation(
                session,
                actor,
                kind=form.kind,
                held_on=parsed.held_on,
                topic=form.topic,
                title=form.title,
                region_code=form.region_code,
                place=form.place,
                chain_ids=form.chain_ids,
                groups=parsed.groups,
                leaders=parsed.leaders,
                plan_topic_id=parsed.plan_topic_id,
                summary=form.summary,
                chains=app.atlas,
            )
            meeting_id = meeting.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            values_from_form(form),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}", status_code=303)


@router.get("/cppcc/meetings/{meeting_id}/edit", include_in_schema=False)
def edit_meeting_page(request: Request, user: Viewer, meeting_id: int) -> Response:
    with workflow_session(request, user) as (session, actor):
        values = values_from_meeting(meeting_service.get_consultation(session, meeting_id, actor))
    return _form_page(request, user, values, meeting_id=meeting_id)


@router.post("/cppcc/meetings/{meeting_id}/edit", include_in_schema=False)
def edit_meeting(
    request: Request, user: Viewer, meeting_id: int, form: Annotated[MeetingForm, Form()]
) -> Response:
    app = app_state(request)
    try:
        parsed = parse_meeting_form(form)
        with workflow_session(request, user) as (session, actor):
            _check_chains(request, actor, form.chain_ids)
            meeting_service.update_consultation(
                session,
                actor,
                meeting_id,
                expected_version=parsed.version,
                kind=form.kind,
                held_on=parsed.held_on,
                topic=form.topic,
                title=form.title,
                region_code=form.region_code,
                place=form.place,
                summary=form.summary,
                chain_ids=form.chain_ids,
                groups=parsed.groups,
                leaders=parsed.leaders,
                chains=app.atlas,
                plan_topic_id=parsed.plan_topic_id,
            )
    except UserError as exc:
        reraise_refusal(exc)
        values = values_from_form(form)
        if failure_status(exc) == 409:
            # what was typed stays; the version is the current one, to retry from
            with workflow_session(request, user) as (session, actor):
                current = meeting_service.get_consultation(session, meeting_id, actor)
                values["version"] = current.version
        return _form_page(
            request,
            user,
            values,
            meeting_id=meeting_id,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}", status_code=303)


def _visible_cases(session: Session, actor: Actor, meeting: Consultation) -> list[Case]:
    found = []
    for link in meeting.cases:
        case = session.get(Case, link.case_id)
        if case is not None and may(
            actor, Action.view, Target(Kind.case, chain_id=case.chain_id, unit_id=case.unit_id)
        ):
            found.append(case)
    return sorted(found, key=lambda c: c.id)


def _case_candidates(session: Session, actor: Actor, meeting: Consultation) -> list[Case]:
    """Cases to link: open ones on the meeting's chains (on any chain for a meeting without
    chains), newest first, not linked yet."""
    linked = {link.case_id for link in meeting.cases}
    chains: list[str | None] = list(meeting.chain_ids) or [None]
    found: dict[int, Case] = {}
    for chain_id in chains:
        for case in case_service.list_cases(session, actor, chain_id=chain_id):
            if case.id not in linked and case.state not in CLOSED_STATES:
                found[case.id] = case
    return sorted(found.values(), key=lambda c: -c.id)[:MAX_CASE_CHOICES]


def _members_to_record(session: Session, actor: Actor, meeting: Consultation) -> list[Member]:
    """The active members, and any inactive one whose attendance is on record."""
    recorded = {row.member_id for row in meeting.attendance}
    return [m for m in list_members(session, actor, active=None) if m.active or m.id in recorded]


def _meeting_page(
    request: Request,
    user: User,
    meeting_id: int,
    *,
    error: str = "",
    status_code: int = 200,
    section: str = "",
    posted: Mapping[str, Any] | None = None,
) -> Response:
    lang = language(request)
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        meeting = meeting_service.get_consultation(session, meeting_id, actor)
        may_edit = may_edit_meeting(actor, meeting)
        report = report_service.previous_handling_report(session, actor, meeting_id)
        may_raise = may_edit and may_anywhere(actor, Kind.case, Action.create)
        raise_chains = [
            (cid, cname)
            for cid, cname in chain_choices(app, actor, lang)
            if not meeting.chain_ids or cid in meeting.chain_ids
        ]
        attendance = {row.member_id: row for row in meeting.attendance}
        return render(
            request,
            "cp_meeting.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            meeting=meeting,
            may_edit=may_edit,
            kind_names=CONSULTATION_KIND_NAMES,
            attendance_names=ATTENDANCE_NAMES,
            counts=meeting_service.attendance_counts(meeting),
            counts_by_group=by_group(meeting),
            attendance=attendance,
            members=_members_to_record(session, actor, meeting) if may_edit else [],
            group_name=group_name,
            region_label=_region_label(meeting.region_code),
            leader_roles=meeting_service.LEADER_ROLES,
            cases=_visible_cases(session, actor, meeting),
            case_candidates=_case_candidates(session, actor, meeting) if may_edit else [],
            may_raise=may_raise,
            raise_chains=raise_chains,
            unit_groups=units_for_chain(
                session, meeting.chain_ids[0] if meeting.chain_ids else None
            )
            if may_raise
            else [],
            state_names=STATE_NAMES,
            category_names=CATEGORY_NAMES,
            submissions=list_submissions(session, actor, consultation_id=meeting.id),
            submission_kind_names=SUBMISSION_KIND_NAMES,
            submission_state=state_name,
            result_names=RESULT_STATUS_NAMES,
            may_submit=may_submit(actor),
            report=report,
            report_html=report_service.render_html(report, lang),
            error=error,
            section=section,
            posted=posted or {},
        )


@router.get("/cppcc/meetings/{meeting_id}", include_in_schema=False)
def meeting_page(request: Request, user: Viewer, meeting_id: int) -> Response:
    return _meeting_page(request, user, meeting_id)


@router.post("/cppcc/meetings/{meeting_id}/attendance", include_in_schema=False)
def record_attendance(
    request: Request, user: Viewer, meeting_id: int, form: Annotated[AttendanceForm, Form()]
) -> Response:
    try:
        entries: dict[int, meeting_service.AttendanceIn | None] = {}
        for index, raw_id in enumerate(form.member_id):
            member_id = parse_id(raw_id, "委员", "member")
            if member_id is None:
                continue
            status = form.status[index].strip() if index < len(form.status) else ""
            note = form.note[index] if index < len(form.note) else ""
            entries[member_id] = meeting_service.AttendanceIn(status, note) if status else None
        with workflow_session(request, user) as (session, actor):
            meeting_service.record_attendance(
                session,
                actor,
                meeting_id,
                entries,
                expected_version=parse_id(form.version, "版本", "version"),
            )
    except UserError as exc:
        reraise_refusal(exc)
        posted = {
            "attendance": {
                raw: (
                    form.status[i] if i < len(form.status) else "",
                    form.note[i] if i < len(form.note) else "",
                )
                for i, raw in enumerate(form.member_id)
            }
        }
        return _meeting_page(
            request,
            user,
            meeting_id,
            error=message(request, exc),
            status_code=failure_status(exc),
            section="attendance",
            posted=posted,
        )
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}#attendance", status_code=303)


def _case_failure(
    request: Request, user: User, meeting_id: int, form: CaseForm, exc: UserError, section: str
) -> Response:
    reraise_refusal(exc)
    return _meeting_page(
        request,
        user,
        meeting_id,
        error=message(request, exc),
        status_code=failure_status(exc),
        section=section,
        posted={"case": form.model_dump()},
    )


@router.post("/cppcc/meetings/{meeting_id}/cases/link", include_in_schema=False)
def link_case(
    request: Request, user: Viewer, meeting_id: int, form: Annotated[CaseForm, Form()]
) -> Response:
    try:
        case_id = parse_id(form.case_id, "诉求", "case")
        if case_id is None:
            raise UserError("请选择要关联的「诉求」", "choose the 'case' to link")
        with workflow_session(request, user) as (session, actor):
            meeting_service.link_case(
                session,
                actor,
                meeting_id,
                case_id,
                expected_version=parse_id(form.version, "版本", "version"),
            )
    except UserError as exc:
        return _case_failure(request, user, meeting_id, form, exc, "link")
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}#cases", status_code=303)


@router.post("/cppcc/meetings/{meeting_id}/cases/raise", include_in_schema=False)
def raise_case(
    request: Request, user: Viewer, meeting_id: int, form: Annotated[CaseForm, Form()]
) -> Response:
    app = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            check_chain(app, actor, form.chain_id)
            meeting_service.raise_case(
                session,
                actor,
                meeting_id,
                title=form.title,
                category=form.category or "other",
                chain_id=form.chain_id,
                enterprise_name=form.enterprise_name,
                description=form.description,
                unit_id=parse_id(form.unit_id, "责任单位", "responsible unit"),
                deadline=parse_day(form.deadline, "办理期限", "deadline"),
                chains=app.atlas,
            )
    except UserError as exc:
        return _case_failure(request, user, meeting_id, form, exc, "raise")
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}#cases", status_code=303)


# --- the handling report of the previous meeting -------------------------------------------


def _report_name(report: report_service.HandlingReport, lang: str, suffix: str) -> tuple[str, str]:
    day = report.meeting.held_on.isoformat()
    ascii_name = f"handling-report-{report.meeting.id}-{day}.{suffix}"
    if lang == "en":
        return ascii_name, ascii_name
    return f"上一次意见建议办理情况-{day}.{suffix}", ascii_name


@router.get("/cppcc/meetings/{meeting_id}/handling-report", include_in_schema=False)
def handling_report_page(request: Request, user: Viewer, meeting_id: int) -> Response:
    """The report as a page to print (read out at the meeting)."""
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        report = report_service.previous_handling_report(session, actor, meeting_id)
        return render(
            request,
            "cp_meeting_report.html",
            user,
            **cppcc_context(request, user, actor),
            meeting=report.meeting,
            report=report,
            report_html=report_service.render_html(report, lang),
            kind_names=CONSULTATION_KIND_NAMES,
        )


@router.get("/cppcc/meetings/{meeting_id}/handling-report.txt", include_in_schema=False)
def handling_report_text(request: Request, user: Viewer, meeting_id: int) -> Response:
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        report = report_service.previous_handling_report(session, actor, meeting_id)
        body = report_service.render_text(report, lang)
        title, ascii_name = _report_name(report, lang, "txt")
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": attachment(title, ascii_name)},
    )


@router.get("/cppcc/meetings/{meeting_id}/handling-report.docx", include_in_schema=False)
def handling_report_word(request: Request, user: Viewer, meeting_id: int) -> Response:
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        report = report_service.previous_handling_report(session, actor, meeting_id)
        body = handling_report_docx(report, lang)
        title, ascii_name = _report_name(report, lang, "docx")
    return Response(
        body,
        media_type=DOCX_TYPE,
        headers={"Content-Disposition": attachment(title, ascii_name)},
    )
