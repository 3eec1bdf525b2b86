"""HTTP API under /api/v1 (docs/api.md): JSON for scripts and other systems.

Every route needs an authenticated user — `Authorization: Bearer <token>` (`chainatlas users
token USER`) or a logged-in browser session, whose unsafe requests then also carry the
X-CSRF-Token header. Errors are JSON {error, message_zh, message_en}. The analysis objects
are the same contracts the CLI prints with `--format json` (docs/contracts.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine, Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePath
from typing import Annotated, Any, Literal, TypeVar

import polars as pl
from fastapi import APIRouter, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.atlas.export import chain_summary, chain_to_dict
from chainatlas.atlas.model import Chain
from chainatlas.diagnose.model import Diagnosis
from chainatlas.diagnose.opportunities import Opportunities, find_opportunities
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import load_regions, region_codes
from chainatlas.services.enterprise_search import enterprise_detail, search_enterprises
from chainatlas.services.region_lists import (
    RegionTargets,
    region_lists,
    region_lists_json,
    results_info,
)
from chainatlas.targets.model import ReasonKind, TargetList
from chainatlas.targets.pipeline import find_targets
from chainatlas.web.api_models import (
    CHAIN_PATTERN,
    ID_MAX_LENGTH,
    NODE_PATTERN,
    PAGE_SIZE_MAX,
    REGION_PATTERN,
    TOP_MAX,
    USCC_PATTERN,
    ApiError,
    ChainDetail,
    ChainNode,
    ChainSummary,
    EnterpriseDetailOut,
    EnterprisePage,
    FieldProblem,
    RegionOut,
)
from chainatlas.web.readmodel import VersionedLRU, region_diagnosis, region_rows
from chainatlas.web.security import Viewer, require_chain
from chainatlas.web.state import AppState, app_state

PAGE_MAX = 100_000
CACHE_SIZE = 32
V = TypeVar("V")
_caches_lock = threading.Lock()


class NotFound(UserError):
    """An unknown chain, region, node, enterprise or job: 404 with the reason in zh/en."""


# what a valid value of each parameter looks like, for the 422 message (zh, en)
EXPECTED: dict[str, tuple[str, str]] = {
    "region": ("6 位数字的行政区划代码，如 450400", "a 6-digit region code such as 450400"),
    "parent": ("6 位数字的行政区划代码，如 450000", "a 6-digit region code such as 450000"),
    "chain": (
        "产业链 id（小写字母开头，仅含小写字母、数字和下划线），如 sugarcane",
        "a chain id (lower-case letters, digits and _), e.g. sugarcane",
    ),
    "node": (
        "环节 id（小写字母开头，仅含小写字母、数字和下划线）",
        "a node id (lower-case letters, digits and _)",
    ),
    "uscc": ("18 位统一社会信用代码", "an 18-character unified social credit code"),
    "level": ("province、city 或 county", "province, city or county"),
    "page": (f"1 到 {PAGE_MAX} 之间的整数", f"an integer from 1 to {PAGE_MAX}"),
    "page_size": (f"1 到 {PAGE_SIZE_MAX} 之间的整数", f"an integer from 1 to {PAGE_SIZE_MAX}"),
    "top": (f"1 到 {TOP_MAX} 之间的整数", f"an integer from 1 to {TOP_MAX}"),
    "q": ("不超过 100 个字符的文字", "text of at most 100 characters"),
    "tag": ("不超过 32 个字符的标签，如 专精特新", "a tag of at most 32 characters, e.g. 专精特新"),
    "reason": (
        "fit、size、growth、tags、partner_referral、relocation 或 distance",
        "fit, size, growth, tags, partner_referral, relocation or distance",
    ),
    "job_id": ("正整数的任务编号", "a positive job number"),
    "maps": ("图 id 的列表", "a list of map ids"),
    "body": (
        "JSON 对象 {region, chain, maps?, lists?, lang?}",
        "a JSON object {region, chain, maps?, lists?, lang?}",
    ),
    "lists": ("清单 id 的列表", "a list of list ids"),
    "lang": ("zh 或 en", "zh or en"),
}
EXPECTED["chain_id"] = EXPECTED["chain"]


def error_body(
    error: str, message_zh: str, message_en: str, fields: list[FieldProblem] | None = None
) -> dict[str, Any]:
    return ApiError(
        error=error, message_zh=message_zh, message_en=message_en, fields=fields
    ).model_dump(exclude_none=True)


def invalid_request(errors: Sequence[Any]) -> JSONResponse:
    """FastAPI's validation errors as one bilingual line naming each field and what it
    should be."""
    problems: list[FieldProblem] = []
    zh_parts: list[str] = []
    en_parts: list[str] = []
    named: set[str] = set()
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc else "request"
        name = loc[1] if len(loc) > 1 else location
        problems.append(FieldProblem(name=name, location=location, problem=str(err.get("msg"))))
        if name in named:  # one sentence per field, however many rules it broke
            continue
        named.add(name)
        zh_expected, en_expected = EXPECTED.get(name, ("有效的取值", "a valid value"))
        if err.get("type") == "missing":
            zh_parts.append(f"缺少参数 {name}（应为 {zh_expected}）")
            en_parts.append(f"missing parameter {name} ({en_expected})")
        else:
            zh_parts.append(f"参数 {name} 无效：应为 {zh_expected}")
            en_parts.append(f"invalid parameter {name}: expected {en_expected}")
    body = error_body("invalid", "；".join(zh_parts), "; ".join(en_parts), problems)
    return JSONResponse(body, status_code=422)


class ApiRoute(APIRoute):
    """Answers invalid parameters and unknown ids with the API's bilingual JSON errors
    instead of FastAPI's default {"detail": …}."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return invalid_request(exc.errors())
            except NotFound as exc:
                return JSONResponse(
                    error_body("not_found", exc.message_zh, exc.message_en), status_code=404
                )
            except HTTPException as exc:
                # FastAPI's 400 for a body it cannot even decode: one more invalid input
                if exc.status_code != 400:
                    raise
                zh, en = EXPECTED["body"]
                problem = FieldProblem(name="body", location="body", problem=str(exc.detail))
                body = error_body(
                    "invalid",
                    f"请求体无法解析：应为 {zh}",
                    f"unreadable body: expected {en}",
                    [problem],
                )
                return JSONResponse(body, status_code=422)

        return handle


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "未登录或令牌无效 / not logged in, bad token"},
    403: {"model": ApiError, "description": "无权访问或 CSRF 校验失败 / forbidden or CSRF"},
    404: {"model": ApiError, "description": "没有该对象 / no such chain, region, …"},
    422: {"model": ApiError, "description": "参数无效 / invalid parameters"},
}

# documents the bearer token in OpenAPI; authentication itself is security.current_user
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="API 令牌 / API token: `chainatlas users token USER`",
)

router = APIRouter(
    prefix="/api/v1",
    route_class=ApiRoute,
    responses=ERROR_RESPONSES,
    dependencies=[Security(bearer)],
)

RegionParam = Annotated[
    str,
    Query(
        pattern=REGION_PATTERN, description="6 位行政区划代码 / region code", examples=["450400"]
    ),
]
ChainParam = Annotated[
    str,
    Query(
        max_length=ID_MAX_LENGTH,
        pattern=CHAIN_PATTERN,
        description="产业链 id / chain id",
        examples=["sugarcane"],
    ),
]
ChainPath = Annotated[
    str,
    Path(
        max_length=ID_MAX_LENGTH,
        pattern=CHAIN_PATTERN,
        description="产业链 id / chain id",
        examples=["sugarcane"],
    ),
]
NodeParam = Annotated[
    str | None,
    Query(max_length=ID_MAX_LENGTH, pattern=NODE_PATTERN, description="环节 id / node id"),
]
TopParam = Annotated[int, Query(ge=1, le=TOP_MAX, description="前 N 项 / first N")]


# --- lookups shared by the routes -----------------------------------------------------------
def chain_for(state: AppState, user: User, chain_id: str) -> Chain:
    """The chain, if it exists (else 404) and the user may see it (else 403)."""
    chain = state.atlas.get(chain_id)
    if chain is None:
        raise NotFound(f"没有产业链 {chain_id}", f"no chain {chain_id}")
    require_chain(user, chain_id)
    return chain


def known_region(code: str) -> str:
    if code not in region_codes():
        raise NotFound(f"未知的行政区划代码 {code}", f"unknown region code {code}")
    return code


def known_node(chain: Chain, node_id: str | None) -> str | None:
    if node_id is not None and node_id not in chain.node_ids:
        raise NotFound(
            f"产业链 {chain.id} 没有环节 {node_id}", f"chain {chain.id} has no node {node_id}"
        )
    return node_id


@contextmanager
def analysis_warehouse(state: AppState) -> Iterator[Warehouse]:
    """The shared read-only warehouse, which must hold classified enterprises."""
    with state.warehouse.read() as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        yield wh


def cached(state: AppState, name: str, key: Hashable, compute: Callable[[Warehouse], V]) -> V:
    """`compute(wh)` kept per warehouse version, so repeated API calls cost nothing."""
    with _caches_lock:
        cache = state.caches.get(f"api.{name}")
        if cache is None:
            cache = state.caches[f"api.{name}"] = VersionedLRU(CACHE_SIZE)
    with analysis_warehouse(state) as wh:
        return cache.get(state.warehouse.version, key, lambda: compute(wh))


def json_text(text: str) -> Response:
    """A contract object exactly as the CLI prints it (its own `to_json`)."""
    return Response(content=text, media_type="application/json")


# --- chains ----------------------------------------------------------------------------------
@router.get(
    "/chains",
    response_model=list[ChainSummary],
    tags=["chains"],
    summary="产业链列表 / list the chains",
)
def list_chains(request: Request, user: Viewer) -> list[dict[str, Any]]:
    """同 `chainatlas chains list --format json`（source 只给文件名）；链长办、成员单位只见其
    负责的链 / as the CLI prints it (source: the file name only); scoped roles see only their
    chains."""
    atlas = app_state(request).atlas
    return [
        # the template's file name: the server's folders are none of the caller's business
        {**summary, "source": PurePath(summary["source"]).name}
        for cid, chain in atlas.items()
        if user.sees_chain(cid)
        for summary in [chain_summary(chain)]
    ]


@router.get(
    "/chains/{chain_id}",
    response_model=ChainDetail,
    tags=["chains"],
    summary="一条产业链 / one chain (chainatlas.chain/1)",
)
def get_chain(request: Request, user: Viewer, chain_id: ChainPath) -> dict[str, Any]:
    """同 `chainatlas chains show ID --format json` / as the CLI prints it."""
    return chain_to_dict(chain_for(app_state(request), user, chain_id))


@router.get(
    "/chains/{chain_id}/nodes",
    response_model=list[ChainNode],
    tags=["chains"],
    summary="产业链的环节 / the chain's nodes",
)
def get_chain_nodes(request: Request, user: Viewer, chain_id: ChainPath) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = chain_to_dict(chain_for(app_state(request), user, chain_id))[
        "nodes"
    ]
    return nodes


# --- regions ---------------------------------------------------------------------------------
def regions_frame(level: str | None, parent: str | None) -> pl.DataFrame:
    regions = load_regions()
    if level is not None:
        regions = regions.filter(pl.col("level") == level)
    if parent is not None:
        regions = regions.filter(pl.col("parent_code") == parent)
    return regions


@router.get(
    "/regions",
    response_model=list[RegionOut],
    tags=["regions"],
    summary="行政区划 / regions (GB/T 2260)",
)
def list_regions(
    user: Viewer,
    level: Annotated[
        Literal["province", "city", "county"] | None, Query(description="级别 / level")
    ] = None,
    parent: Annotated[
        str | None,
        Query(pattern=REGION_PATTERN, description="上级区划代码 / parent code"),
    ] = None,
) -> list[dict[str, Any]]:
    if parent is not None:
        known_region(parent)
    frame = regions_frame(level, parent)
    return [
        {
            "code": row["region_code"],
            "name": row["name"],
            "level": row["level"],
            "parent": row["parent_code"],
            "lon": row["lon"],
            "lat": row["lat"],
        }
        for row in frame.iter_rows(named=True)
    ]


# --- enterprises -----------------------------------------------------------------------------
def split_tags(tags: str | None) -> list[str]:
    return [tag for tag in (tags or "").split(";") if tag]


@router.get(
    "/enterprises",
    response_model=EnterprisePage,
    tags=["enterprises"],
    summary="企业检索 / search enterprises",
)
def search(
    request: Request,
    user: Viewer,
    q: Annotated[
        str | None,
        Query(max_length=100, description="名称或统一社会信用代码 / name part or credit code"),
    ] = None,
    region: Annotated[
        str | None,
        Query(pattern=REGION_PATTERN, description="地区（省、市含下级）/ region and below"),
    ] = None,
    chain: Annotated[
        str | None,
        Query(max_length=ID_MAX_LENGTH, pattern=CHAIN_PATTERN, description="产业链 / chain"),
    ] = None,
    node: NodeParam = None,
    tag: Annotated[
        str | None, Query(max_length=32, description="资质标签，如 专精特新 / tag")
    ] = None,
    page: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 50,
) -> Any:
    """分页，按注册资本从大到小 / one page, largest registered capital first."""
    state = app_state(request)
    if chain is not None:
        known_node(chain_for(state, user, chain), node)
    if region is not None:
        known_region(region)
    with state.warehouse.read() as wh:
        frame, total = search_enterprises(
            wh,
            region_rows=region_rows(state),
            q=q or None,
            region=region,
            chain=chain,
            node=node,
            tag=tag or None,
            page=page,
            page_size=page_size,
        )
    items = [{**row, "tags": split_tags(row["tags"])} for row in frame.to_dicts()]
    return EnterprisePage.model_validate(
        {"total": total, "page": page, "page_size": page_size, "items": items}
    )


@router.get(
    "/enterprises/{uscc}",
    response_model=EnterpriseDetailOut,
    tags=["enterprises"],
    summary="企业详情 / one enterprise",
)
def enterprise(
    request: Request,
    user: Viewer,
    uscc: Annotated[
        str,
        Path(
            pattern=USCC_PATTERN,
            description="统一社会信用代码 / unified social credit code",
            examples=["91450422MANRCHRJ2X"],
        ),
    ],
) -> Any:
    """企业、归链与主要供应商、客户 / the firm, its assignments, its largest partners."""
    with app_state(request).warehouse.read() as wh:
        detail = enterprise_detail(wh, uscc)
    if detail is None:
        raise NotFound(f"没有企业 {uscc}", f"no enterprise {uscc}")
    return EnterpriseDetailOut.model_validate(
        {
            "firm": detail.firm,
            "region_name": detail.region_name,
            "tags": detail.tags,
            "assignments": detail.assignments.to_dicts(),
            "suppliers": detail.suppliers.to_dicts(),
            "customers": detail.customers.to_dicts(),
            "supplier_count": detail.supplier_count,
            "customer_count": detail.customer_count,
        }
    )


# --- analysis --------------------------------------------------------------------------------
def scoped_chains(user: User) -> str:
    return ", ".join(user.chain_ids) or "-"


@router.get(
    "/diagnosis",
    response_model=Diagnosis,
    tags=["analysis"],
    summary="区域产业链诊断 / diagnosis (chainatlas.diagnosis/1)",
)
def get_diagnosis(request: Request, user: Viewer, region: RegionParam, chain: ChainParam) -> Any:
    """同 `chainatlas diagnose -r REGION -c CHAIN --format json` / as the CLI prints it."""
    state = app_state(request)
    chain_for(state, user, chain)
    return json_text(region_diagnosis(state, chain, known_region(region)).to_json())


@router.get(
    "/targets",
    response_model=TargetList,
    tags=["analysis"],
    summary="靶向招商目标 / targets (chainatlas.targets/1)",
)
def get_targets(
    request: Request,
    user: Viewer,
    region: RegionParam,
    chain: ChainParam,
    node: NodeParam = None,
    top: TopParam = 20,
    reason: Annotated[ReasonKind | None, Query(description="按理由筛选 / reason filter")] = None,
) -> Any:
    """同 `chainatlas targets -r REGION -c CHAIN [--node N --top N --reason R] --format json`."""
    state = app_state(request)
    chain_obj = chain_for(state, user, chain)
    known_node(chain_obj, node)
    diagnosis = region_diagnosis(state, chain, known_region(region))
    result = cached(
        state,
        "targets",
        (chain, region, node, top, reason),
        lambda wh: find_targets(
            wh,
            chain_obj,
            diagnosis,
            node_id=node,
            top=top,
            reason=reason,
            weights=state.settings.targets,
        ),
    )
    return json_text(result.to_json())


@router.get(
    "/targets/regions",
    response_model=RegionTargets,
    tags=["analysis"],
    summary="各地区招商清单 / every region's lists (chainatlas.region_targets/1)",
)
def get_region_targets(
    request: Request,
    user: Viewer,
    region: RegionParam,
    chain: ChainParam,
    each: Annotated[
        Literal["city", "county"], Query(description="下辖各市或各县 / every city|county under")
    ],
    node: NodeParam = None,
) -> Any:
    """同 `chainatlas targets -r REGION -c CHAIN --each LEVEL [--node N] --format json`：读取
    导入的 build 结果 / from the imported build results (404 when none are imported)."""
    state = app_state(request)
    chain_obj = chain_for(state, user, chain)
    known_node(chain_obj, node)
    code = known_region(region)
    with state.warehouse.read() as wh:
        info = results_info(wh)
        if info is None:
            raise NotFound(
                "仓库中没有批量结果：先运行 chainatlas build，再运行 chainatlas ingest build",
                "no batch results imported: run chainatlas build, then chainatlas ingest build",
            )
        summary, targets = region_lists(wh, chain_obj, code, each, node)
    return json_text(region_lists_json(chain_obj, code, each, node, info, summary, targets))


def opportunities_for(state: AppState, region: str, chain: str | None, top: int) -> Opportunities:
    """The ranked list cut to `top`: the service ranks everything and then keeps the head,
    so one full list per region and chain serves every `top`."""
    settings = state.settings
    full = cached(
        state,
        "opportunities",
        (region, chain),
        lambda wh: find_opportunities(
            wh,
            state.atlas,
            region,
            weights=settings.opportunity,
            thresholds=settings.status,
            chain_id=chain,
            top=None,
        ),
    )
    return full.model_copy(update={"items": full.items[:top]})


@router.get(
    "/opportunities",
    response_model=Opportunities,
    tags=["analysis"],
    summary="发展机会 / opportunities (chainatlas.opportunities/1)",
)
def get_opportunities(
    request: Request,
    user: Viewer,
    region: RegionParam,
    chain: Annotated[
        str | None,
        Query(
            max_length=ID_MAX_LENGTH,
            pattern=CHAIN_PATTERN,
            description="只看一条链 / one chain only",
        ),
    ] = None,
    top: TopParam = 20,
) -> Any:
    """同 `chainatlas opportunities -r REGION [-c CHAIN --top N] --format json`."""
    state = app_state(request)
    if chain is not None:
        chain_for(state, user, chain)
    elif user.scoped:
        raise UserError(
            f"您的账户只能查看所负责的产业链，请用 chain= 指定其中一条（{scoped_chains(user)}）",
            f"your account sees only its chains; name one with chain= ({scoped_chains(user)})",
        )
    result = opportunities_for(state, known_region(region), chain, top)
    return json_text(result.to_json())
