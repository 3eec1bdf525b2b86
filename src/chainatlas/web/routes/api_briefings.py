"""API: briefing packs (N图N清单) as background jobs — start one, then poll its state and
download its files (the same jobs and files as the 简报 page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Security

from chainatlas.briefing.pack import DEFAULT_LISTS, DEFAULT_MAPS, check_selection
from chainatlas.web import jobs
from chainatlas.web.api_models import BriefingRequest, JobAccepted, JobStatus
from chainatlas.web.routes.api import (
    ERROR_RESPONSES,
    ApiRoute,
    NotFound,
    bearer,
    chain_for,
    known_region,
)
from chainatlas.web.routes.briefings import BRIEFING
from chainatlas.web.security import Analyst, Viewer, require_chain
from chainatlas.web.state import app_state

# job ids are database integers; a larger number cannot be one
JOB_ID_MAX = 2**31 - 1

router = APIRouter(
    prefix="/api/v1",
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
    dependencies=[Security(bearer)],
    tags=["briefings"],
)


def as_utc(moment: datetime | None) -> datetime | None:
    """The app database keeps naive UTC; JSON (RFC 3339) says so explicitly."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.post(
    "/briefings",
    status_code=202,
    response_model=JobAccepted,
    summary="生成简报（后台任务）/ start a briefing pack job",
)
def start_briefing(request: Request, user: Analyst, body: BriefingRequest) -> JobAccepted:
    """同 `chainatlas briefing -r REGION -c CHAIN [--maps … --lists …]`；返回任务编号，
    用 GET /api/v1/briefings/{job_id} 查询进度 / returns the job id to poll."""
    state = app_state(request)
    chain_for(state, user, body.chain)
    known_region(body.region)
    maps = list(DEFAULT_MAPS if body.maps is None else body.maps)
    lists = list(DEFAULT_LISTS if body.lists is None else body.lists)
    check_selection(maps, lists)
    params: dict[str, Any] = {
        "region": body.region,
        "chain": body.chain,
        "maps": maps,
        "lists": lists,
        "lang": body.lang,
    }
    job_id = jobs.submit(state, BRIEFING, params, user, audit="briefing.build")
    return JobAccepted(job_id=job_id, status_url=f"/api/v1/briefings/{job_id}")


@router.get(
    "/briefings/{job_id}",
    response_model=JobStatus,
    summary="简报任务状态与文件 / a briefing job's state and files",
)
def briefing_status(
    request: Request,
    user: Viewer,
    job_id: Annotated[int, Path(ge=1, le=JOB_ID_MAX, description="任务编号 / job id")],
) -> JobStatus:
    job = jobs.get_job(app_state(request).db, job_id, (BRIEFING,))
    if job is None:
        raise NotFound(f"没有简报任务 {job_id}", f"no briefing job {job_id}")
    require_chain(user, str(job.params.get("chain", "")))
    files = [str(name) for name in job.result.get("files", [])]
    return JobStatus.model_validate(
        {
            "job_id": job.id,
            "kind": job.kind,
            "state": job.state,
            "progress": 1.0 if job.state == "done" else job.progress,
            "message": job.message,
            "params": job.params,
            "created_by": job.created_by,
            "created_at": as_utc(job.created_at),
            "finished_at": as_utc(job.finished_at),
            "files": [{"name": n, "url": f"/briefings/{job.id}/files/{quote(n)}"} for n in files],
            "zip_url": f"/briefings/{job.id}/zip" if files else None,
            "error_zh": job.error_zh if job.state == "failed" else "",
            "error_en": job.error_en if job.state == "failed" else "",
        }
    )
