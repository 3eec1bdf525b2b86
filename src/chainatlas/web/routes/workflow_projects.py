"""项目 (招商项目库): the projects pipeline as a table and as a kanban, a project's page with
its dated stage history, the create / edit form, stage moves that ask for what the new stage
needs, and the XLSX sheet offices keep (export, and an import that writes all rows or none).
Every change goes through `workflow.projects` / `workflow.project_xlsx`, which check the
access rules, lock optimistically and audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.errors import UserError
from chainatlas.services.enterprise_search import clean_code, enterprise_name
from chainatlas.web.routes._workflow import (
    PAGE_SIZE,
    XLSX_TYPE,
    RowId,
    attachment,
    chain_choices,
    check_chain,
    failure_status,
    may_anywhere,
    message,
    page_context,
    parse_choice,
    parse_day,
    parse_id,
    require_anywhere,
    reraise_refusal,
    units_for_chain,
    workflow_session,
)
from chainatlas.web.security import Viewer
from chainatlas.web.state import app_state
from chainatlas.web.templating import language, render
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Action, Kind, Target, may
from chainatlas.workflow.edits import local_day, local_today
from chainatlas.workflow.models import STAGE_NAMES, Project, ProjectStage
from chainatlas.workflow.organisation import list_units
from chainatlas.workflow.project_xlsx import ImportRejected, import_projects, projects_xlsx

router = APIRouter()
S = ProjectStage
KANBAN = (S.lead, S.negotiating, S.signed, S.started, S.in_production, S.lost, S.on_hold)
KANBAN_CARDS = 60  # per column; the table view pages through the rest
MAX_IMPORT_BYTES = 10 * 1024 * 1024
DATE_FIELDS = ("signed_on", "started_on", "production_on")
# the fields a stage move may fill in (what `required_fields` can ask for beyond the basics)
STAGE_FIELDS = ("unit_id", "amount_wan", "signed_on", "park", "started_on", "production_on")
FORM_FIELDS = (
    "name",
    "investor_name",
    "investor_uscc",
    "chain_id",
    "node_id",
    "amount_wan",
    "park",
    "unit_id",
    "region_code",
    *DATE_FIELDS,
    "note",
)
# where a project created from a target list came from (GET /projects/new?target=…, kept
# hidden in the form; set once at creation)
TARGET_FIELDS = ("target_region_code", "target_chain_id", "target_node_id")


class ProjectForm(BaseModel):
    """The project form as posted (text; the service checks and converts each field)."""

    name: str = Field("", max_length=1000)
    investor_name: str = Field("", max_length=1000)
    investor_uscc: str = Field("", max_length=100)
    chain_id: str = Field("", max_length=100)
    node_id: str = Field("", max_length=100)
    amount_wan: str = Field("", max_length=40)
    park: str = Field("", max_length=1000)
    unit_id: str = Field("", max_length=20)
    region_code: str = Field("", max_length=20)
    signed_on: str = Field("", max_length=20)
    started_on: str = Field("", max_length=20)
    production_on: str = Field("", max_length=20)
    note: str = Field("", max_length=5000)
    target_region_code: str = Field("", max_length=20)
    target_chain_id: str = Field("", max_length=100)
    target_node_id: str = Field("", max_length=100)
    stage: str = Field("", max_length=32)
    stage_note: str = Field("", max_length=5000)
    to: str = Field("", max_length=32)  # a stage move's target stage
    version: str = Field("", max_length=20)


def _field_value(key: str, raw: str) -> Any:
    """One posted field as the service takes it (dates and the unit parsed, naming the
    field when they are not valid)."""
    zh, en = project_service.FIELD_NAMES[key]
    if key in DATE_FIELDS:
        return parse_day(raw, zh, en)
    if key == "unit_id":
        return parse_id(raw, zh, en)
    return raw


def _values(form: ProjectForm, keys: tuple[str, ...], *, only_filled: bool) -> dict[str, Any]:
    values = {}
    for key in keys:
        raw = str(getattr(form, key))
        if only_filled and not raw.strip():
            continue
        values[key] = _field_value(key, raw)
    return values


def _version(form_version: str) -> int | None:
    return parse_id(form_version, "版本", "version")


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, float | int):
        return value > 0
    return True


def missing_for(project: Project, stage: str) -> list[str]:
    """The fields `stage` needs that the project lacks (what the move form asks for)."""
    return [
        f for f in project_service.required_fields(stage) if not _filled(getattr(project, f, None))
    ]


def needs_form(project: Project, stage: str) -> bool:
    return stage in project_service.REASON_STAGES or bool(missing_for(project, stage))


def _filters(
    request: Request, actor: Any, chain: str, stage: str, unit: str
) -> tuple[str | None, str | None, int | None]:
    return (
        check_chain(app_state(request), actor, chain),
        parse_choice(stage, STAGE_NAMES, "阶段", "stage"),
        parse_id(unit, "责任单位", "unit"),
    )


@router.get("/projects", include_in_schema=False)
def projects_page(
    request: Request,
    user: Viewer,
    view: Annotated[str, Query(max_length=16)] = "table",
    chain: Annotated[str, Query(max_length=64)] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    unit: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    state = app_state(request)
    view = "kanban" if view == "kanban" else "table"
    with workflow_session(request, user) as (session, actor):
        chain_id, stage_id, unit_id = _filters(request, actor, chain, stage, unit)
        found = project_service.list_projects(
            session, actor, chain_id=chain_id, stage=stage_id, unit_id=unit_id
        )
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] if view == "table" else found
        columns = {s.value: [p for p in found if p.stage == s.value] for s in KANBAN}
        moves = {p.id: project_service.project_moves(actor, p) for p in shown}
        return render(
            request,
            "wf_projects.html",
            user,
            **page_context(request, user, actor),
            view=view,
            f={"chain": chain_id or "", "stage": stage_id or "", "unit": unit_id or ""},
            projects=shown,
            total=len(found),
            page=page,
            pages=pages,
            columns=columns,
            kanban=KANBAN,
            kanban_cards=KANBAN_CARDS,
            moves=moves,
            needs_form=needs_form,
            stage_names=STAGE_NAMES,
            chains=chain_choices(state, actor, language(request)),
            units=list_units(session),
            may_create=may_anywhere(actor, Kind.project, Action.create),
            query=request.url.query,
        )


@router.get("/projects/nodes", include_in_schema=False)
def node_select(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The node picker of the project form for the chain chosen (HTMX sends the form's
    `chain_id` field, which is read when `chain` is not given)."""
    asked = chain or request.query_params.get("chain_id", "")[:64]
    with workflow_session(request, user) as (_session, actor):
        chosen = check_chain(app_state(request), actor, asked)
        return render(request, "_wf_node_select.html", user, **_node_context(request, chosen, ""))


def _node_context(request: Request, chain_id: str | None, node_id: str) -> dict[str, Any]:
    chain = app_state(request).atlas.get(chain_id or "")
    lang = language(request)
    nodes = (
        [(n.id, n.name_en if lang == "en" and n.name_en else n.name_zh) for n in chain.nodes]
        if chain is not None
        else []
    )
    return {"nodes": nodes, "node_id": node_id}


def _form_page(
    request: Request,
    user: User,
    form: Mapping[str, Any],
    *,
    project: Project | None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    state = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id = str(form.get("chain_id") or "") or None
        if project is None:
            allowed = may_anywhere(actor, Kind.project, Action.create)
        else:
            allowed = may(
                actor, Action.edit, Target(Kind.project, project.chain_id, project.unit_id)
            )
        return render(
            request,
            "wf_project_form.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            **_node_context(request, chain_id, str(form.get("node_id") or "")),
            project=project,
            form=form,
            error=error,
            allowed=allowed,
            chains=chain_choices(state, actor, language(request)),
            unit_groups=units_for_chain(session, chain_id),
            stage_names=STAGE_NAMES,
            field_names=project_service.FIELD_NAMES,
        )


def _project_form_values(project: Project) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(project, k) for k in FORM_FIELDS}
    for key, value in list(values.items()):
        values[key] = "" if value is None else value
    if project.amount_wan is not None:
        values["amount_wan"] = f"{project.amount_wan:g}"
    values["version"] = project.version
    return values


@router.get("/projects/new", include_in_schema=False)
def new_project(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
    node: Annotated[str, Query(max_length=64)] = "",
    uscc: Annotated[str, Query(max_length=18)] = "",
    region: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    """The empty form; from a target list (招商 → 立项) `uscc` names the target firm and
    `region` × `chain` × `node` the list it came from, so the project keeps its origin."""
    state = app_state(request)
    with workflow_session(request, user) as (_session, actor):
        chain_id = check_chain(state, actor, chain)
    form: dict[str, Any] = {"chain_id": chain_id or "", "stage": "lead"}
    if uscc and chain_id and state.warehouse.exists:
        with state.warehouse.read() as wh:
            investor = enterprise_name(wh, uscc)
        if investor is None:
            raise HTTPException(status_code=404)
        node_id = node if node in state.atlas[chain_id].node_ids else ""
        form |= {
            "investor_uscc": clean_code(uscc),
            "investor_name": investor,
            "node_id": node_id,
            "target_region_code": region if region.isdigit() and len(region) == 6 else "",
            "target_chain_id": chain_id,
            "target_node_id": node_id,
        }
    return _form_page(request, user, form, project=None)


@router.post("/projects", include_in_schema=False)
def create_project(
    request: Request, user: Viewer, form: Annotated[ProjectForm, Form()]
) -> Response:
    state = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            values = _values(form, FORM_FIELDS, only_filled=False)
            values |= _values(form, TARGET_FIELDS, only_filled=True)
            for key in ("name", "investor_name", "chain_id"):
                values.pop(key)
            project = project_service.add_project(
                session,
                actor,
                name=form.name,
                investor_name=form.investor_name,
                chain_id=form.chain_id,
                stage=form.stage or S.lead.value,
                stage_note=form.stage_note,
                chains=state.atlas,
                **values,
            )
            project_id = project.id
    except UserError as exc:
        reraise_refusal(exc)
        return _form_page(
            request,
            user,
            form.model_dump(),
            project=None,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.get("/projects/export.xlsx", include_in_schema=False)
def export_projects(
    request: Request,
    user: Viewer,
    chain: Annotated[str, Query(max_length=64)] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    unit: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The projects shown by the table's filters, in the import layout (招商项目库台账)."""
    state = app_state(request)
    with workflow_session(request, user) as (session, actor):
        chain_id, stage_id, unit_id = _filters(request, actor, chain, stage, unit)
        found = project_service.list_projects(
            session, actor, chain_id=chain_id, stage=stage_id, unit_id=unit_id
        )
        chain_name = state.atlas[chain_id].name_zh if chain_id else ""
        title = f"{chain_name}招商项目库"
        body = projects_xlsx(found, chains=state.atlas, title=title)
    day = local_today().isoformat()
    ascii_name = f"projects-{chain_id + '-' if chain_id else ''}{day}.xlsx"
    filename = ascii_name if language(request) == "en" else f"{title}-{day}.xlsx"
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": attachment(filename, ascii_name)},
    )


@router.post("/projects/import", include_in_schema=False)
def import_sheet(
    request: Request, user: Viewer, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Check every row first; any problem → the problems as a table and nothing written."""
    state = app_state(request)
    problems: list[Any] = []
    error = ""
    counts = {"created": 0, "updated": 0}
    status_code = 200
    try:
        with workflow_session(request, user) as (session, actor):
            require_anywhere(actor, Kind.project, Action.create)
            if file is None or not file.filename:
                raise UserError(
                    "请选择要导入的 XLSX 文件（字段 file）",
                    "choose an XLSX file to import (field file)",
                )
            data = file.file.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise UserError(
                    f"文件过大：最多 {MAX_IMPORT_BYTES // 1024 // 1024} MB",
                    f"the file is too large: at most {MAX_IMPORT_BYTES // 1024 // 1024} MB",
                )
            result = import_projects(session, actor, data, chains=state.atlas)
            counts = {"created": len(result.created), "updated": len(result.updated)}
    except ImportRejected as exc:
        problems, error, status_code = exc.problems, message(request, exc), 422
    except UserError as exc:
        reraise_refusal(exc)
        error, status_code = message(request, exc), 422
    with workflow_session(request, user) as (_session, actor):
        return render(
            request,
            "wf_project_import.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            problems=problems,
            error=error,
            counts=counts,
            filename=file.filename if file is not None else "",
        )


def _project_page(
    request: Request, user: User, project_id: RowId, *, error: str = "", status_code: int = 200
) -> Response:
    with workflow_session(request, user) as (session, actor):
        project = project_service.get_project(session, project_id, actor)
        target = Target(Kind.project, project.chain_id, project.unit_id)
        return render(
            request,
            "wf_project.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            project=project,
            moves=project_service.project_moves(actor, project),
            needs_form=needs_form,
            may_edit=may(actor, Action.edit, target),
            stage_names=STAGE_NAMES,
            field_names=project_service.FIELD_NAMES,
            local_day=local_day,
            error=error,
        )


@router.get("/projects/{project_id}", include_in_schema=False)
def project_page(request: Request, user: Viewer, project_id: RowId) -> Response:
    return _project_page(request, user, project_id)


@router.get("/projects/{project_id}/edit", include_in_schema=False)
def edit_project_page(request: Request, user: Viewer, project_id: RowId) -> Response:
    with workflow_session(request, user) as (session, actor):
        project = project_service.get_project(session, project_id, actor)
        values = _project_form_values(project)
    return _form_page(request, user, values, project=project)


@router.post("/projects/{project_id}", include_in_schema=False)
def edit_project(
    request: Request, user: Viewer, project_id: RowId, form: Annotated[ProjectForm, Form()]
) -> Response:
    state = app_state(request)
    try:
        with workflow_session(request, user) as (session, actor):
            project_service.update_project(
                session,
                actor,
                project_id,
                expected_version=_version(form.version),
                chains=state.atlas,
                **_values(form, FORM_FIELDS, only_filled=False),
            )
    except UserError as exc:
        reraise_refusal(exc)
        with workflow_session(request, user) as (session, actor):
            project = project_service.get_project(session, project_id, actor)
        return _form_page(
            request,
            user,
            form.model_dump(),
            project=project,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


def _stage_page(
    request: Request,
    user: User,
    project_id: RowId,
    to: str,
    form: Mapping[str, Any],
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (session, actor):
        project = project_service.get_project(session, project_id, actor)
        stage = parse_choice(to, STAGE_NAMES, "目标阶段", "target stage")
        if stage is None:
            raise UserError("请选择目标阶段（字段 to）", "choose the target stage (field to)")
        if S(stage) not in project_service.next_stages(project.stage):
            allowed = ", ".join(s.value for s in project_service.next_stages(project.stage))
            raise UserError(
                f"项目不能从「{project_service.stage_name(project.stage)}」转为"
                f"「{project_service.stage_name(stage)}」（可转为：{allowed or '无'}）",
                f"a project cannot move from {project.stage} to {stage} (allowed: {allowed})",
            )
        asked = [f for f in STAGE_FIELDS if f in missing_for(project, stage)]
        return render(
            request,
            "wf_project_stage.html",
            user,
            status_code=status_code,
            **page_context(request, user, actor),
            project=project,
            stage=stage,
            asked=asked,
            needs_reason=stage in project_service.REASON_STAGES,
            form=form,
            error=error,
            stage_names=STAGE_NAMES,
            field_names=project_service.FIELD_NAMES,
            unit_groups=units_for_chain(session, project.chain_id),
            allowed=S(stage) in project_service.project_moves(actor, project),
        )


@router.get("/projects/{project_id}/stage", include_in_schema=False)
def stage_form(
    request: Request, user: Viewer, project_id: RowId, to: Annotated[str, Query(max_length=32)]
) -> Response:
    """The small form a move asks for what the new stage needs (and a reason for lost or
    on hold)."""
    with workflow_session(request, user) as (session, actor):
        version = project_service.get_project(session, project_id, actor).version
    return _stage_page(request, user, project_id, to, {"version": version})


@router.post("/projects/{project_id}/stage", include_in_schema=False)
def move_project(
    request: Request,
    user: Viewer,
    project_id: RowId,
    form: Annotated[ProjectForm, Form()],
) -> Response:
    state = app_state(request)
    back = "/projects?view=kanban" if request.query_params.get("back") == "kanban" else None
    try:
        with workflow_session(request, user) as (session, actor):
            project_service.change_stage(
                session,
                actor,
                project_id,
                form.to,
                expected_version=_version(form.version),
                stage_note=form.stage_note,
                chains=state.atlas,
                **_values(form, STAGE_FIELDS, only_filled=True),
            )
    except UserError as exc:
        reraise_refusal(exc)
        return _stage_page(
            request,
            user,
            project_id,
            form.to,
            form.model_dump(),
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    return RedirectResponse(back or f"/projects/{project_id}", status_code=303)
