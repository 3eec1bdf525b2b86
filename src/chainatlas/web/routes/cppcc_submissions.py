"""意见建议 / 提案 / 社情民意 (CPPCC submissions): the list with its filters, counts by state
and XLSX export (overdue answers in red), the form that registers one (from a consultation
meeting with `?consultation=`), and a submission's page: what it says, its handling units
with their deadlines and answers, its result with progress and milestones (as Decidim's
accountability module shows them), merge and split, and the timeline of every change.

Every change goes through `cppcc.suggestions` / `cppcc.results` / `cppcc.merging`, which
check the access table, lock optimistically (each form carries the `version` it was loaded
with: a stale one is a 409 and changes nothing) and write the history and the audit log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Role
from chainatlas.cppcc import merging, results
from chainatlas.cppcc import suggestions as service
from chainatlas.cppcc.consultations import get_consultation, list_consultations
from chainatlas.cppcc.groups import GROUPS, group_name
from chainatlas.cppcc.members import list_members, member_of_user
from chainatlas.cppcc.models import Submission
from chainatlas.cppcc.permissions import may_any
from chainatlas.cppcc.vocabulary import (
    CLOSED_SUBMISSION_STATES,
    HANDLING_STATE_NAMES,
    RESULT_STATUS_NAMES,
    SUBMISSION_KIND_NAMES,
    SUBMISSION_STATE_NAMES,
    SubmissionState,
)
from chainatlas.errors import UserError
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._cppcc_submissions import (
    LINK_KEYS,
    handling_overdue_days,
    history_rows,
    matches,
    next_deadline,
    overdue_days,
    submissions_xlsx,
)
from chainatlas.web.routes._workflow import (
    PAGE_SIZE,
    XLSX_TYPE,
    apply_change,
    attachment,
    chain_choices,
    check_chain,
    failure_status,
    form_version,
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
from chainatlas.web.templating import language, render
from chainatlas.workflow.access import Action, Actor, Kind, NotAllowed, Scope, Target, scopes
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.organisation import list_units

router = APIRouter()
MAX_ROWS = 20  # unit rows of the assign form, parts of a split, merge picks, co-signers…
MERGE_CHOICES = 200
Q = Annotated[str, Query(max_length=64)]


class SubmissionForm(BaseModel):
    """Registering a submission and editing what it says."""

    kind: str = Field("", max_length=32)
    number: str = Field("", max_length=100)
    title: str = Field("", max_length=1000)
    content: str = Field("", max_length=40000)
    raised_on: str = Field("", max_length=20)
    consultation_id: str = Field("", max_length=20)
    group: str = Field("", max_length=100)
    member_id: str = Field("", max_length=20)
    co_signers: list[str] = Field(default_factory=list, max_length=200)
    chain_id: str = Field("", max_length=100)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class AssignForm(BaseModel):
    """Handling units: one row each (unit, deadline); `lead` is the row of the lead unit."""

    unit_id: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    deadline: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    lead: str = Field("", max_length=8)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class AnswerForm(BaseModel):
    answer: str = Field("", max_length=40000)
    answered_on: str = Field("", max_length=20)
    answered_by: str = Field("", max_length=500)
    version: str = Field("", max_length=20)


class ResultForm(BaseModel):
    status: str = Field("", max_length=32)
    progress: str = Field("", max_length=20)
    result: str = Field("", max_length=40000)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class MilestoneForm(BaseModel):
    reached_on: str = Field("", max_length=20)
    title: str = Field("", max_length=1000)
    description: str = Field("", max_length=10000)
    progress: str = Field("", max_length=20)
    status: str = Field("", max_length=32)
    version: str = Field("", max_length=20)


class MergeForm(BaseModel):
    """`sources`: "id:version" of each submission ticked to merge into this one; `others`:
    more ids typed (merged as they are now)."""

    sources: list[str] = Field(default_factory=list, max_length=MERGE_CHOICES)
    others: str = Field("", max_length=1000)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class SplitForm(BaseModel):
    """One row per part: its title, content, chain and (optionally) its handling unit."""

    part_title: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    part_content: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    part_chain: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    part_unit: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    part_deadline: list[str] = Field(default_factory=list, max_length=MAX_ROWS)
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


class UnitForm(BaseModel):
    note: str = Field("", max_length=5000)
    version: str = Field("", max_length=20)


# --- who may register -------------------------------------------------------------------
def own_member_id(session: Session, actor: Actor) -> int | None:
    """The member record of a CPPCC member's account (its submissions are its own)."""
    member = member_of_user(session, actor.user_id)
    return member.id if member is not None else None


def may_create(session: Session, actor: Actor) -> bool:
    """The staff register any submission; a member its own, once its account is linked."""
    granted = scopes(actor, Kind.submission, Action.create)
    if Scope.any in granted:
        return True
    return Scope.own in granted and own_member_id(session, actor) is not None


# --- form values --------------------------------------------------------------------------
def parse_year(value: str) -> int | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or not 1949 <= int(cleaned) <= 2200:
        raise UserError(
            f"「年度」无效：{cleaned}（应为 1949–2200 的年份）",
            f"'year': {cleaned} is not a year from 1949 to 2200",
        )
    return int(cleaned)


def parse_percent(value: str, field_zh: str, field_en: str) -> float | None:
    cleaned = (value or "").strip().rstrip("%％").strip()
    if not cleaned:
        return None
    try:
        number = float(cleaned)
    except ValueError:
        raise UserError(
            f"「{field_zh}」无效：{cleaned} 不是 0–100 之间的数",
            f"'{field_en}': {cleaned} is not a number from 0 to 100",
        ) from None
    if not 0 <= number <= 100:
        raise UserError(
            f"「{field_zh}」应在 0 到 100 之间（现为 {cleaned}）",
            f"'{field_en}' must be between 0 and 100 (got {cleaned})",
        )
    return number


def parse_ids(values: list[str], field_zh: str, field_en: str) -> list[int]:
    found = [parse_id(v, field_zh, field_en) for v in values]
    return [v for v in found if v is not None]


def parse_units(form: AssignForm) -> list[service.HandlingIn]:
    """The rows with a unit, in order; a deadline without a unit names its row."""
    lead_row = parse_id(form.lead, "主办单位", "lead unit")
    units = []
    for row, unit in enumerate(form.unit_id, start=1):
        deadline_text = form.deadline[row - 1] if row - 1 < len(form.deadline) else ""
        unit_id = parse_id(unit, f"第 {row} 行承办单位", f"handling unit of row {row}")
        deadline = parse_day(deadline_text, f"第 {row} 行办理期限", f"deadline of row {row}")
        if unit_id is None:
            if deadline is not None:
                raise UserError(
                    f"第 {row} 行：请选择承办单位（已填写办理期限）",
                    f"row {row}: choose the handling unit (a deadline is given)",
                )
            continue
        units.append(service.HandlingIn(unit_id, lead=lead_row == row, deadline=deadline))
    return units


def parse_others(value: str) -> list[int]:
    """Ids typed as "12, 15 #18" (commas, spaces, 、 and # allowed)."""
    words = value.replace("#", " ").replace("，", " ").replace("、", " ").replace(",", " ")
    return parse_ids(words.split(), "其他要并入的编号", "other numbers to merge")


def parse_sources(values: list[str]) -> dict[int, int]:
    """The ticked "id:version" values → {id: version}."""
    picked: dict[int, int] = {}
    for value in values:
        ident, _, version = value.partition(":")
        source = parse_id(ident, "要合并的意见建议", "submission to merge")
        seen = parse_id(version, "版本", "version")
        if source is not None:
            if seen is None:
                raise UserError(
                    f"「要合并的意见建议」#{source} 缺少版本，请刷新页面后重试",
                    f"'submission to merge' #{source} has no version; reload the page",
                )
            picked[source] = seen
    return picked


# --- the list -------------------------------------------------------------------------------
def _filters(
    request: Request,
    session: Session,
    actor: Actor,
    values: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The parsed filters (for the query) and their form values (for links and the form)."""
    state = app_state(request)
    parsed: dict[str, Any] = {
        "kind": parse_choice(values["kind"], SUBMISSION_KIND_NAMES, "类型", "kind"),
        "state": parse_choice(values["state"], SUBMISSION_STATE_NAMES, "办理状态", "state"),
        "unit_id": parse_id(values["unit"], "承办单位", "handling unit"),
        "chain_id": check_chain(state, actor, values["chain"]),
        "member_id": parse_id(values["member"], "委员", "member"),
        "year": parse_year(values["year"]),
        "consultation_id": parse_id(values["consultation"], "协商会议", "consultation"),
        "q": values["q"].strip(),
        "overdue": values["overdue"] in ("1", "true", "on"),
    }
    if parsed["consultation_id"] is not None:
        get_consultation(session, parsed["consultation_id"], actor)
    shown = {
        "kind": parsed["kind"] or "",
        "state": parsed["state"] or "",
        "unit": str(parsed["unit_id"] or ""),
        "chain": parsed["chain_id"] or "",
        "member": str(parsed["member_id"] or ""),
        "year": str(parsed["year"] or ""),
        "consultation": str(parsed["consultation_id"] or ""),
        "q": parsed["q"],
        "overdue": "1" if parsed["overdue"] else "",
    }
    return parsed, shown


def _find(
    session: Session, actor: Actor, parsed: Mapping[str, Any], *, with_state: bool
) -> list[Submission]:
    """The submissions the filters select (`with_state=False`: whatever their state)."""
    today = local_today()
    found = service.list_submissions(
        session,
        actor,
        kind=parsed["kind"],
        state=parsed["state"] if with_state else None,
        consultation_id=parsed["consultation_id"],
        unit_id=parsed["unit_id"],
        member_id=parsed["member_id"],
        chain_id=parsed["chain_id"],
        year=parsed["year"],
    )
    if parsed["q"]:
        found = [s for s in found if matches(s, parsed["q"])]
    if parsed["overdue"]:
        found = [s for s in found if overdue_days(s, today)]
    return found


@router.get("/cppcc/submissions", include_in_schema=False)
def submissions_page(
    request: Request,
    user: Viewer,
    kind: Q = "",
    state: Q = "",
    unit: Q = "",
    chain: Q = "",
    member: Q = "",
    year: Q = "",
    consultation: Q = "",
    q: Annotated[str, Query(max_length=200)] = "",
    overdue: Q = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    app = app_state(request)
    today = local_today()
    asked = dict(
        kind=kind,
        state=state,
        unit=unit,
        chain=chain,
        member=member,
        year=year,
        consultation=consultation,
        q=q,
        overdue=overdue,
    )
    with workflow_session(request, user) as (session, actor):
        parsed, shown = _filters(request, session, actor, asked)
        every_state = _find(session, actor, parsed, with_state=False)
        counts = Counter(s.state for s in every_state)
        found = [s for s in every_state if parsed["state"] in (None, s.state)]
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        lang = language(request)
        return render(
            request,
            "cp_subs.html",
            user,
            **cppcc_context(request, user, actor),
            f=shown,
            submissions=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            total=len(found),
            all_states_total=len(every_state),
            counts=counts,
            overdue_total=sum(1 for s in found if overdue_days(s, today)),
            page=page,
            pages=pages,
            overdue_days=overdue_days,
            next_deadline=next_deadline,
            kind_names=SUBMISSION_KIND_NAMES,
            state_names=SUBMISSION_STATE_NAMES,
            status_names=RESULT_STATUS_NAMES,
            gname=partial(group_name, lang=lang),
            chains=chain_choices(app, actor, lang),
            units=list_units(session),
            members=list_members(session, actor, active=None),
            meetings=list_consultations(session, actor),
            may_create=may_create(session, actor),
        )


@router.get("/cppcc/submissions.xlsx", include_in_schema=False)
def export_submissions(
    request: Request,
    user: Viewer,
    kind: Q = "",
    state: Q = "",
    unit: Q = "",
    chain: Q = "",
    member: Q = "",
    year: Q = "",
    consultation: Q = "",
    q: Annotated[str, Query(max_length=200)] = "",
    overdue: Q = "",
) -> Response:
    """The list as the filters select it (every page), as the office's 办理台账."""
    app = app_state(request)
    asked = dict(
        kind=kind,
        state=state,
        unit=unit,
        chain=chain,
        member=member,
        year=year,
        consultation=consultation,
        q=q,
        overdue=overdue,
    )
    with workflow_session(request, user) as (session, actor):
        parsed, _shown = _filters(request, session, actor, asked)
        found = _find(session, actor, parsed, with_state=True)
        body = submissions_xlsx(found, app.atlas, local_today())
    day = local_today().isoformat()
    ascii_name = f"cppcc-submissions-{day}.xlsx"
    title = f"意见建议办理台账-{day}.xlsx"
    filename = ascii_name if language(request) == "en" else title
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": attachment(filename, ascii_name)},
    )


# --- registering one --------------------------------------------------------------------------
def _form_page(
    request: Request,
    user: User,
    form: Mapping[str, Any],
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        own = own_member_id(session, actor) if actor.role == Role.cppcc_member else None
        meeting_id = str(form.get("consultation_id") or "")
        meetings = list_consultations(session, actor)
        meeting = next((m for m in meetings if str(m.id) == meeting_id), None)
        members = list_members(session, actor, active=None)
        return render(
            request,
            "cp_sub_form.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            form=form,
            error=error,
            allowed=may_create(session, actor),
            own_member=next((m for m in members if m.id == own), None),
            members=members,
            meetings=meetings,
            meeting=meeting,
            kind_names=SUBMISSION_KIND_NAMES,
            groups=[(g.id, g.name(lang)) for g in GROUPS.values()],
            gname=partial(group_name, lang=lang),
            chains=chain_choices(app, actor, lang),
        )


@router.get("/cppcc/submissions/new", include_in_schema=False)
def new_submission(
    request: Request,
    user: Viewer,
    consultation: Q = "",
    kind: Q = "",
    chain: Q = "",
) -> Response:
    app = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = check_chain(app, actor, chain)
        meeting_id = parse_id(consultation, "协商会议", "consultation")
        if meeting_id is not None:
            meeting = get_consultation(session, meeting_id, actor)
            if chain_id is None:
                chain_id = next((c for c in meeting.chain_ids if c in app.atlas), None)
        own = own_member_id(session, actor) if actor.role == Role.cppcc_member else None
        defaults = {
            "kind": parse_choice(kind, SUBMISSION_KIND_NAMES, "类型", "kind") or "suggestion",
            "consultation_id": str(meeting_id or ""),
            "chain_id": chain_id or "",
            "member_id": str(own or ""),
            "co_signers": [],
        }
    return _form_page(request, user, defaults)


@router.post("/cppcc/submissions", include_in_schema=False)
def create_submission(
    request: Request, user: Viewer, form: Annotated[SubmissionForm, Form()]
) -> Response:
    app = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            if not may_create(session, actor):
                raise NotAllowed(actor, Action.create, Target(Kind.submission))
            member_id = parse_id(form.member_id, "提出委员", "proposer")
            if member_id is None and actor.role == Role.cppcc_member:
                member_id = own_member_id(session, actor)
            submission = service.add_submission(
                session,
                actor,
                kind=form.kind,
                title=form.title,
                content=form.content,
                raised_on=parse_day(form.raised_on, "提出日期", "date raised"),
                consultation_id=parse_id(form.consultation_id, "协商会议", "consultation"),
                group=form.group or None,
                member_id=member_id,
                co_signers=parse_ids(form.co_signers, "联名委员", "co-signers"),
                chain_id=form.chain_id or None,
                number=form.number,
                note=form.note,
                chains=app.atlas,
            )
            submission_id = submission.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/submissions/{submission_id}", status_code=303)


# --- a submission's page ----------------------------------------------------------------------
def _merge_choices(session: Session, actor: Actor, submission: Submission) -> list[Submission]:
    """Open submissions of the same kind to tick for merging into this one: those raised at
    the same meeting, else those on the same chain (any other is given by its number)."""
    near: dict[str, Any] = (
        {"consultation_id": submission.consultation_id}
        if submission.consultation_id is not None
        else {"chain_id": submission.chain_id}
    )
    found = service.list_submissions(
        session, actor, kind=submission.kind, include_closed=False, **near
    )
    return [
        s
        for s in found
        if s.id != submission.id and may_any(actor, Action.merge, service.submission_targets(s))
    ][:MERGE_CHOICES]


def _record_page(
    request: Request,
    user: User,
    submission_id: int,
    *,
    error: str = "",
    status_code: int = 200,
    failed: str = "",
    form: Mapping[str, Any] | None = None,
) -> Response:
    """The page; after a refused form, `failed` names the form and `form` keeps its values."""
    app = app_state(request)
    today = local_today()
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        submission = service.get_submission(session, submission_id, actor)
        is_open = submission.state not in CLOSED_SUBMISSION_STATES
        found = service.submission_targets(submission)

        def may(action: Action) -> bool:
            return is_open and may_any(actor, action, found)

        answerable = [
            h.id
            for h in submission.handlings
            if is_open and may_any(actor, Action.answer, service.handling_target(h))
        ]
        final = (
            service.final_submission(session, submission)
            if submission.merged_into_id is not None
            else None
        )
        author_only = service.edits_as_author_only(actor)
        # its member corrects it until it is handed to handling units
        may_edit = may(Action.edit) and (
            not author_only or submission.state == SubmissionState.registered.value
        )
        return render(
            request,
            "cp_sub.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            s=submission,
            is_open=is_open,
            history=history_rows(submission.history),
            link_keys=LINK_KEYS,
            final=final,
            sources=service.merged_sources(session, submission),
            parts=service.split_parts(session, submission),
            answerable=answerable,
            may_assign=may(Action.assign),
            may_track=may(Action.track),
            may_edit=may_edit,
            author_only=author_only,
            may_merge=may(Action.merge),
            may_split=may(Action.split_up),
            merge_choices=_merge_choices(session, actor, submission) if may(Action.merge) else [],
            members=list_members(session, actor, active=None) if may_edit else [],
            unit_groups=units_for_chain(session, submission.chain_id),
            overdue=overdue_days(submission, today),
            handling_overdue_days=handling_overdue_days,
            kind_names=SUBMISSION_KIND_NAMES,
            state_names=SUBMISSION_STATE_NAMES,
            status_names=RESULT_STATUS_NAMES,
            handling_names=HANDLING_STATE_NAMES,
            gname=partial(group_name, lang=lang),
            groups=[(g.id, g.name(lang)) for g in GROUPS.values()],
            chains=chain_choices(app, actor, lang),
            max_rows=MAX_ROWS,
            error=error,
            failed=failed,
            form=form or {},
        )


@router.get("/cppcc/submissions/{submission_id}", include_in_schema=False)
def submission_page(request: Request, user: Viewer, submission_id: int) -> Response:
    return _record_page(request, user, submission_id)


Change = Callable[[Session, Actor, int | None], Any]


def _act(
    request: Request,
    user: User,
    submission_id: int,
    name: str,
    form: BaseModel,
    change: Change,
) -> Response:
    """Run one change; a conflict or a form error shows the page again with the message
    (409 / 422), the values typed and nothing changed; a refusal is a 403."""
    return apply_change(
        request,
        user,
        lambda session, actor: change(session, actor, form_version(form)),
        done=f"/cppcc/submissions/{submission_id}",
        failed=lambda error, status: _record_page(
            request,
            user,
            submission_id,
            error=error,
            status_code=status,
            failed=name,
            form=form.model_dump(),
        ),
    )


@router.post("/cppcc/submissions/{submission_id}/edit", include_in_schema=False)
def edit_submission(
    request: Request,
    user: Viewer,
    submission_id: int,
    form: Annotated[SubmissionForm, Form()],
) -> Response:
    app = app_state(request)

    def change(session: Session, actor: Actor, version: int | None) -> Any:
        # a member's form has no number or party/sector (the staff's registration)
        author = service.edits_as_author_only(actor)
        return service.update_submission(
            session,
            actor,
            submission_id,
            expected_version=version,
            title=form.title,
            content=form.content,
            number=None if author else form.number,
            group=None if author else form.group,
            chain_id=form.chain_id,
            co_signers=parse_ids(form.co_signers, "联名委员", "co-signers"),
            note=form.note,
            chains=app.atlas,
        )

    return _act(request, user, submission_id, "edit", form, change)


@router.post("/cppcc/submissions/{submission_id}/assign", include_in_schema=False)
def assign_units(
    request: Request, user: Viewer, submission_id: int, form: Annotated[AssignForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return service.assign_units(
            session,
            actor,
            submission_id,
            parse_units(form),
            expected_version=version,
            note=form.note,
        )

    return _act(request, user, submission_id, "assign", form, change)


@router.post("/cppcc/submissions/{submission_id}/units/{unit_id}/remove", include_in_schema=False)
def remove_unit(
    request: Request,
    user: Viewer,
    submission_id: int,
    unit_id: int,
    form: Annotated[UnitForm, Form()],
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return service.remove_unit(
            session, actor, submission_id, unit_id, expected_version=version, note=form.note
        )

    return _act(request, user, submission_id, "remove", form, change)


@router.post(
    "/cppcc/submissions/{submission_id}/handlings/{handling_id}/answer",
    include_in_schema=False,
)
def answer(
    request: Request,
    user: Viewer,
    submission_id: int,
    handling_id: int,
    form: Annotated[AnswerForm, Form()],
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        handling = service.get_handling(session, handling_id)
        if handling.submission_id != submission_id:
            raise UserError(
                f"办理记录 {handling_id} 不属于意见建议 #{submission_id}",
                f"handling {handling_id} is not one of submission #{submission_id}",
            )
        return service.answer(
            session,
            actor,
            handling_id,
            expected_version=version,
            answer_text=form.answer,
            answered_on=parse_day(form.answered_on, "答复日期", "answer date"),
            answered_by=form.answered_by,
        )

    return _act(request, user, submission_id, f"answer-{handling_id}", form, change)


@router.post("/cppcc/submissions/{submission_id}/result", include_in_schema=False)
def update_result(
    request: Request, user: Viewer, submission_id: int, form: Annotated[ResultForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        return results.update_result(
            session,
            actor,
            submission_id,
            expected_version=version,
            status=form.status or None,
            progress=parse_percent(form.progress, "落实进度", "progress"),
            result=form.result,
            note=form.note,
        )

    return _act(request, user, submission_id, "result", form, change)


@router.post("/cppcc/submissions/{submission_id}/milestones", include_in_schema=False)
def add_milestone(
    request: Request, user: Viewer, submission_id: int, form: Annotated[MilestoneForm, Form()]
) -> Response:
    def change(session: Session, actor: Actor, version: int | None) -> Any:
        reached_on = parse_day(form.reached_on, "节点日期", "milestone date")
        if reached_on is None:
            raise UserError("请填写节点日期", "the milestone date is required")
        return results.add_milestone(
            session,
            actor,
            submission_id,
            expected_version=version,
            reached_on=reached_on,
            title=form.title,
            description=form.description,
            progress=parse_percent(form.progress, "节点进度", "milestone progress"),
            status=form.status or None,
        )

    return _act(request, user, submission_id, "milestone", form, change)


@router.post("/cppcc/submissions/{submission_id}/merge", include_in_schema=False)
def merge_into(
    request: Request, user: Viewer, submission_id: int, form: Annotated[MergeForm, Form()]
) -> Response:
    """Merge the picked submissions into this one (并案)."""

    def change(session: Session, actor: Actor, version: int | None) -> Any:
        picked = parse_sources(form.sources)
        typed = [i for i in parse_others(form.others) if i not in picked]
        return merging.merge_submissions(
            session,
            actor,
            submission_id,
            [*picked, *typed],
            expected_versions=picked if version is None else {**picked, submission_id: version},
            note=form.note,
        )

    return _act(request, user, submission_id, "merge", form, change)


def _parts(form: SplitForm) -> list[tuple[merging.SplitPart, str, str]]:
    """The filled rows as parts, numbered as the service numbers them, with their unit and
    deadline as typed."""
    rows = []
    for index, title in enumerate(form.part_title):

        def cell(values: list[str], index: int = index) -> str:
            return values[index].strip() if index < len(values) else ""

        values = (title.strip(), cell(form.part_content), cell(form.part_chain))
        extra = (cell(form.part_unit), cell(form.part_deadline))
        if any(values) or any(extra):
            rows.append((merging.SplitPart(values[0], values[1], values[2] or None), *extra))
    return rows


@router.post("/cppcc/submissions/{submission_id}/split", include_in_schema=False)
def split(
    request: Request, user: Viewer, submission_id: int, form: Annotated[SplitForm, Form()]
) -> Response:
    """Split this submission into parts, each possibly given to its own handling unit."""
    app = app_state(request)

    def change(session: Session, actor: Actor, version: int | None) -> Any:
        rows = _parts(form)
        handlings: list[service.HandlingIn | None] = []
        for number, (_part, unit, deadline) in enumerate(rows, start=1):
            unit_id = parse_id(unit, f"第 {number} 部分承办单位", f"handling unit of part {number}")
            day = parse_day(deadline, f"第 {number} 部分办理期限", f"deadline of part {number}")
            if unit_id is None and day is not None:
                raise UserError(
                    f"第 {number} 部分：请选择承办单位（已填写办理期限）",
                    f"part {number}: choose the handling unit (a deadline is given)",
                )
            handlings.append(None if unit_id is None else service.HandlingIn(unit_id, True, day))
        children = merging.split_submission(
            session,
            actor,
            submission_id,
            [part for part, _unit, _deadline in rows],
            expected_version=version,
            note=form.note,
            chains=app.atlas,
        )
        for child, handling in zip(children, handlings, strict=True):
            if handling is not None:
                service.assign_units(session, actor, child.id, [handling], expected_version=None)
        return children

    return _act(request, user, submission_id, "split", form, change)
