"""数据: upload enterprise and supply-link files, rebuild the classification, see how fresh
the warehouse is. Loads run as background jobs (web/jobs.py); the page polls them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.errors import UserError
from chainatlas.ingest.readers import SUPPORTED_SUFFIXES
from chainatlas.services.web_jobs import (
    MAX_UPLOAD_BYTES,
    UPLOAD_KINDS,
    Freshness,
    check_upload,
    load_upload,
    reclassify,
    save_upload,
    upload_dir,
    upload_error_file,
    warehouse_freshness,
)
from chainatlas.web import jobs
from chainatlas.web.routes._workflow import RowId
from chainatlas.web.security import DataManager
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import language, render

# the runner's start/stop hooks ride on this router (merged into the app's lifespan)
router = APIRouter(lifespan=jobs.lifespan)

UPLOAD = "data.upload"
RECLASSIFY = "data.reclassify"
DATA_JOBS = (UPLOAD, RECLASSIFY)
# multipart overhead on top of the largest file accepted
_BODY_LIMIT = MAX_UPLOAD_BYTES + 1024 * 1024


@jobs.register(UPLOAD)
def _upload_job(
    state: AppState, job_id: RowId, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    file = upload_dir(state.settings.home, job_id) / str(params["name"])
    return load_upload(
        state.settings, state.atlas, state.warehouse, file, str(params["kind"]), progress
    )


@jobs.register(RECLASSIFY)
def _reclassify_job(
    state: AppState, job_id: RowId, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    return reclassify(state.settings, state.atlas, state.warehouse, progress)


def _freshness(state: AppState) -> Freshness | None:
    if not state.warehouse.exists:
        return None
    with state.warehouse.read() as wh:
        return warehouse_freshness(wh)


def _freshness_context(state: AppState) -> dict[str, Any]:
    loads = [j for j in jobs.list_jobs(state.db, (UPLOAD,), limit=20) if j.state == "done"]
    return {
        "freshness": _freshness(state),
        "recent_loads": loads[:3],
        "job_time": jobs.local_time,
    }


def _page(request: Request, user: User, error: str = "", status_code: int = 200) -> Response:
    state = app_state(request)
    return render(
        request,
        "data.html",
        user,
        status_code=status_code,
        jobs=jobs.list_jobs(state.db, DATA_JOBS),
        kinds=UPLOAD_KINDS,
        suffixes=SUPPORTED_SUFFIXES,
        max_upload_gb=f"{MAX_UPLOAD_BYTES / 1024**3:g}",
        error=error,
        **_freshness_context(state),
    )


def _message(request: Request, exc: UserError) -> str:
    return exc.message_en if language(request) == "en" else exc.message_zh


@router.get("/data", include_in_schema=False)
def data_page(request: Request, user: DataManager) -> Response:
    return _page(request, user)


@router.get("/data/freshness", include_in_schema=False)
def freshness_part(request: Request, user: DataManager) -> Response:
    return render(request, "_data_freshness.html", user, **_freshness_context(app_state(request)))


@router.post("/data/upload", include_in_schema=False, max_body_size=_BODY_LIMIT)
def upload(
    request: Request,
    user: DataManager,
    file: Annotated[UploadFile | None, File()] = None,
    kind: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    state = app_state(request)
    try:
        if file is None or not file.filename:
            raise UserError(
                "请选择要上传的文件（字段 file）", "choose a file to upload (field file)"
            )
        name = check_upload(file.filename, kind, file.size)
    except UserError as exc:
        return _page(request, user, error=_message(request, exc), status_code=422)
    params = {"kind": kind, "name": name, "size": file.size, "client_name": file.filename[:200]}
    job_id = jobs.create(state, UPLOAD, params, user, audit="data.upload")
    try:
        save_upload(state.settings.home, job_id, name, file.file)
    except UserError as exc:
        jobs.fail(state.db, job_id, exc.message_zh, exc.message_en)
        return _page(request, user, error=_message(request, exc), status_code=422)
    jobs.start(state, job_id)
    return RedirectResponse(f"/data#job-{job_id}", status_code=303)


@router.post("/data/reclassify", include_in_schema=False)
def start_reclassify(request: Request, user: DataManager) -> Response:
    job_id = jobs.submit(app_state(request), RECLASSIFY, {}, user, audit="data.reclassify")
    return RedirectResponse(f"/data#job-{job_id}", status_code=303)


def _job(request: Request, job_id: RowId) -> jobs.JobView:
    job = jobs.get_job(app_state(request).db, job_id, DATA_JOBS)
    if job is None:
        raise HTTPException(404)
    return job


@router.get("/data/jobs/{job_id}", include_in_schema=False)
def job_row(request: Request, user: DataManager, job_id: RowId) -> Response:
    job = _job(request, job_id)
    response = render(request, "_data_job_row.html", user, job=job, job_time=jobs.local_time)
    if not job.active:
        # the page refreshes its freshness figures when a polled job ends
        response.headers["HX-Trigger"] = "data-job-finished"
    return response


@router.get("/data/jobs/{job_id}/errors", include_in_schema=False)
def error_report(request: Request, user: DataManager, job_id: RowId) -> Response:
    job = _job(request, job_id)
    name = str(job.params.get("name", "")) if job.kind == UPLOAD else ""
    path = upload_error_file(app_state(request).settings.home, job_id, name) if name else None
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=path.name)
