"""会议报道录入 (document intake): a meeting report or news article, pasted or uploaded
(.txt / .md / .html / .htm, simplified or traditional, with the page's clutter), read by
`services.intake` into a draft meeting record — the same draft `chainatlas intake FILE`
prints — and shown as the meeting form filled in, beside what was read (kind, date as
written, actions named, figures with their units, notes to check) for a person to correct and
save. Only those who may record consultations (the CPPCC staff) read and save drafts; a bad
file is a form error and nothing is saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.cppcc import consultations as meeting_service
from chainatlas.cppcc.groups import group_name
from chainatlas.cppcc.intake_model import MeetingDraft
from chainatlas.cppcc.vocabulary import CONSULTATION_KIND_NAMES
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_full_name
from chainatlas.services import intake as intake_service
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._cppcc_meeting_form import (
    MeetingForm,
    form_context,
    parse_meeting_form,
    plan_topic_choices,
    suggested_plan_topic,
    values_from_draft,
    values_from_form,
)
from chainatlas.web.routes._workflow import (
    chain_choices,
    check_chain,
    failure_status,
    may_anywhere,
    message,
    require_anywhere,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow.access import Action, Kind

router = APIRouter(prefix="/cppcc/intake")
MAX_PASTED = 1_000_000  # characters: a report is a few thousand
DRAFT_KIND_NAMES: dict[str, tuple[str, str]] = {
    "consultation": ("协商会议", "consultation"),
    "review_meeting": ("调度会", "review meeting"),
    "other": ("其他会议", "other meeting"),
}
ACTION_NAMES: dict[str, tuple[str, str]] = {
    "build": ("建链", "build"),
    "fill": ("补链", "fill"),
    "extend": ("延链", "extend"),
    "strengthen": ("强链", "strengthen"),
    "investment": ("招商", "investment promotion"),
    "partner_referral": ("以商招商", "partner referral"),
    "relocation": ("承接产业转移", "relocation"),
    "review": ("调度", "review"),
    "consultation": ("协商", "consultation"),
}
YEAR_SOURCE_KEYS = {
    "written": "cpm_year_written",
    "published": "cpm_year_published",
    "sentence": "cpm_year_sentence",
    "text": "cpm_year_text",
}


def _entry_page(
    request: Request,
    user: User,
    *,
    typed: Mapping[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (_session, actor):
        return render(
            request,
            "cp_intake.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            allowed=may_anywhere(actor, Kind.consultation, Action.create),
            typed=typed or {},
            error=error,
            max_mb=intake_service.MAX_BYTES // (1024 * 1024),
        )


@router.get("", include_in_schema=False)
def intake_page(request: Request, user: Viewer) -> Response:
    return _entry_page(request, user)


def _confirm_page(
    request: Request,
    user: User,
    draft: MeetingDraft,
    values: Mapping[str, Any] | None = None,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    app = app_state(request)
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        chains = chain_choices(app, actor, lang)
        plan_topics = plan_topic_choices(session, actor)
        if values is None:
            shown = values_from_draft(draft, [cid for cid, _ in chains])
            shown["plan_topic_id"] = suggested_plan_topic(plan_topics, draft)
        else:
            shown = dict(values)
        return render(
            request,
            "cp_intake_confirm.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            **form_context(),
            draft=draft,
            form=shown,
            meeting=None,
            error=error,
            allowed=may_anywhere(actor, Kind.consultation, Action.create),
            kind_names=CONSULTATION_KIND_NAMES,
            draft_kind_names=DRAFT_KIND_NAMES,
            action_names=ACTION_NAMES,
            year_source_keys=YEAR_SOURCE_KEYS,
            chains=chains,
            plan_topics=plan_topics,
            group_name=group_name,
            region_full_name=region_full_name,
        )


@router.post("", include_in_schema=False)
def read_report(
    request: Request,
    user: Viewer,
    text: Annotated[str, Form(max_length=MAX_PASTED)] = "",
    published: Annotated[str, Form(max_length=20)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The pasted text, or the uploaded file when one is chosen → the draft to confirm."""
    app = app_state(request)
    typed = {"text": text, "published": published}
    try:
        with workflow_session(request, user) as (_session, actor):
            require_anywhere(actor, Kind.consultation, Action.create)
        published_on = intake_service.parse_published(published.strip() or None)
        if file is not None and file.filename:
            data = file.file.read(intake_service.MAX_BYTES + 1)
            draft = intake_service.intake_upload(
                data, file.filename, published=published_on, atlas=app.atlas
            )
        elif text.strip():
            draft = intake_service.intake_text(text, published=published_on, atlas=app.atlas)
        else:
            raise UserError(
                "请粘贴会议报道的文字（字段「报道文字」），或选择要上传的文件（字段「文件」）",
                "paste the report's text (field 'report text') or choose a file to upload "
                "(field 'file')",
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _entry_page(request, user, typed=typed, error=message(request, exc), status_code=422)
    return _confirm_page(request, user, draft)


@router.post("/save", include_in_schema=False)
def save_meeting(request: Request, user: Viewer, form: Annotated[MeetingForm, Form()]) -> Response:
    """Create the meeting as the person confirmed it; the report's text is kept with it."""
    app = app_state(request)
    try:
        with workflow_session(request, user) as (_session, actor):
            require_anywhere(actor, Kind.consultation, Action.create)
        parsed = parse_meeting_form(form)
        with workflow_session(request, user) as (session, actor):
            for chain_id in form.chain_ids:
                check_chain(app, actor, chain_id)
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
                report_text=form.report_text,
                chains=app.atlas,
            )
            meeting_id = meeting.id
    except UserError as exc:
        reraise_refusal(exc)
        # what was read is read again from the kept text; the form keeps what was typed
        draft = intake_service.intake_text(form.report_text or "-", atlas=app.atlas)
        return _confirm_page(
            request,
            user,
            draft,
            values_from_form(form),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/cppcc/meetings/{meeting_id}", status_code=303)
