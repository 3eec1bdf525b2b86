"""简报: build the N maps N lists pack of a region × chain as a background job and download
its files (PDF, XLSX, PNG, SVG) one by one or as a ZIP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, allows
from chainatlas.briefing.pack import (
    DEFAULT_LISTS,
    DEFAULT_MAPS,
    LIST_IDS,
    LIST_SPECS,
    MAP_IDS,
    MAP_SPECS,
    check_selection,
)
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_codes, region_full_name
from chainatlas.services.web_jobs import briefing_dir, make_briefing, produced_file, zip_files
from chainatlas.web import jobs
from chainatlas.web.routes._workflow import RowId
from chainatlas.web.security import Analyst, Viewer, require_chain
from chainatlas.web.state import AppState, app_state
from chainatlas.web.templating import current_region, language, render, visible_chains

router = APIRouter()

BRIEFING = "briefing"


@jobs.register(BRIEFING)
def _briefing_job(
    state: AppState, job_id: RowId, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    return make_briefing(
        state.settings,
        state.atlas,
        state.warehouse,
        str(params["region"]),
        str(params["chain"]),
        briefing_dir(state.settings.home, job_id),
        maps=list(params["maps"]),
        lists=list(params["lists"]),
        lang=str(params.get("lang", "zh")),
        progress=progress,
    )


def _visible_jobs(request: Request, user: User) -> list[jobs.JobView]:
    found = jobs.list_jobs(app_state(request).db, (BRIEFING,), limit=50)
    return [j for j in found if user.sees_chain(str(j.params.get("chain", "")))][:20]


def _file_groups(job: jobs.JobView) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    """The report and workbook, then each map as (short label, [(PNG|SVG, file name)])."""
    names = [str(n) for n in job.result.get("files", [])]
    prefix = f"{job.params.get('region', '')}-{job.params.get('chain', '')}-"
    documents: list[str] = []
    images: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        stem, _, suffix = name.rpartition(".")
        if suffix.lower() not in ("png", "svg"):
            documents.append(name)
            continue
        label = stem.removeprefix(prefix)
        images.setdefault(label, []).append((suffix.upper(), name))
    return documents, [(label, sorted(files)) for label, files in images.items()]


def _context(request: Request, user: User) -> dict[str, Any]:
    lang = language(request)
    chains = visible_chains(request, user)
    return {
        "chains": chains,
        "chain_names": dict(chains),
        "region_label": region_full_name,
        "file_groups": _file_groups,
        "job_time": jobs.local_time,
        "map_options": [(m, MAP_SPECS[m].name(lang), m in DEFAULT_MAPS) for m in MAP_IDS],
        "list_options": [(x, LIST_SPECS[x].name(lang), x in DEFAULT_LISTS) for x in LIST_IDS],
        "may_generate": allows(user.role, Permission.analyze),
    }


def _page(
    request: Request,
    user: User,
    error: str = "",
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    if form is None:
        # other pages link here with ?chain= to preselect their chain
        form = {"chain": request.query_params.get("chain", "")}
    return render(
        request,
        "briefings.html",
        user,
        status_code=status_code,
        jobs=_visible_jobs(request, user),
        error=error,
        form=form,
        **_context(request, user),
    )


@router.get("/briefings", include_in_schema=False)
def briefings_page(request: Request, user: Viewer) -> Response:
    return _page(request, user)


@router.post("/briefings", include_in_schema=False)
def new_briefing(
    request: Request,
    user: Analyst,
    region: Annotated[str, Form(max_length=16)] = "",
    chain: Annotated[str, Form(max_length=64)] = "",
    maps: Annotated[list[str] | None, Form()] = None,
    lists: Annotated[list[str] | None, Form()] = None,
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    state = app_state(request)
    region = region.strip() or current_region(request, user)
    lang = lang or language(request)
    form = {"region": region, "chain": chain, "maps": maps or [], "lists": lists or []}
    try:
        if region not in region_codes():
            raise UserError(
                f"地区 region：{region} 不是有效的 6 位行政区划代码",
                f"field region: {region} is not a valid 6-digit region code",
            )
        if chain not in state.atlas:
            raise UserError(
                f"产业链 chain：没有产业链 {chain or '（未选择）'}",
                f"field chain: no chain {chain or '(none chosen)'}",
            )
        if lang not in ("zh", "en"):
            raise UserError(
                f"语言 lang：{lang} 无效（zh 或 en）", f"field lang: {lang} is invalid (zh or en)"
            )
        check_selection(maps or [], lists or [])
    except UserError as exc:
        message = exc.message_en if language(request) == "en" else exc.message_zh
        return _page(request, user, error=message, status_code=422, form=form)
    require_chain(user, chain)
    params = {
        "region": region,
        "chain": chain,
        "maps": maps or [],
        "lists": lists or [],
        "lang": lang,
    }
    job_id = jobs.submit(state, BRIEFING, params, user, audit="briefing.build")
    return RedirectResponse(f"/briefings?chain={chain}#job-{job_id}", status_code=303)


def _job(request: Request, user: User, job_id: RowId) -> jobs.JobView:
    job = jobs.get_job(app_state(request).db, job_id, (BRIEFING,))
    if job is None:
        raise HTTPException(404)
    require_chain(user, str(job.params.get("chain", "")))
    return job


@router.get("/briefings/{job_id}/row", include_in_schema=False)
def job_row(request: Request, user: Viewer, job_id: RowId) -> Response:
    job = _job(request, user, job_id)
    return render(request, "_job_briefing_row.html", user, job=job, **_context(request, user))


@router.get("/briefings/{job_id}/files/{name}", include_in_schema=False)
def download_file(request: Request, user: Viewer, job_id: RowId, name: str) -> Response:
    job = _job(request, user, job_id)
    out_dir = briefing_dir(app_state(request).settings.home, job_id)
    path = produced_file(out_dir, list(job.result.get("files", [])), name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, filename=path.name)


@router.get("/briefings/{job_id}/zip", include_in_schema=False)
def download_zip(request: Request, user: Viewer, job_id: RowId) -> Response:
    job = _job(request, user, job_id)
    files = list(job.result.get("files", []))
    if not files:
        raise HTTPException(404)
    out_dir = briefing_dir(app_state(request).settings.home, job_id)
    name = f"{job.params.get('region', '')}-{job.params.get('chain', '')}-briefing-{job_id}.zip"
    return Response(
        zip_files(out_dir, files),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
