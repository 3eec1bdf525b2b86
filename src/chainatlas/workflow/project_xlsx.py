"""The projects pipeline as the XLSX sheet offices already keep (招商项目库台账): export, and
an import that checks every row first and writes all rows or none.

Layout: an optional title row, then one header row (Chinese as below; common variants and
English identifiers are accepted), one project per row. A row with a 编号 updates that
project (its stage change is recorded like any other); a row without creates one. The
chain may be given by id or name, the node by id or name within the chain, the unit by
name, the stage by its Chinese name or identifier; dates as dates or text (2025-05-26,
2025/5/26, 2025年5月26日); amounts in 万元 (a text amount may end in 万 or 亿).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import xlsxwriter
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from chainatlas.atlas.model import Chain
from chainatlas.db.base import utcnow
from chainatlas.errors import UserError
from chainatlas.ingest.validators import is_valid_uscc
from chainatlas.reference.regions import region_full_name
from chainatlas.workflow.access import Action, Actor, Kind, Target, may
from chainatlas.workflow.edits import audit, local_day
from chainatlas.workflow.models import STAGE_NAMES, Project, ProjectStage, Unit
from chainatlas.workflow.organisation import list_units
from chainatlas.workflow.projects import (
    FIELD_NAMES,
    add_project,
    change_stage,
    get_project,
    next_stages,
    required_fields,
    update_project,
)

# (key, header) in sheet order; `id` is 编号; `updated` and `origin` (the target list a
# project came from, 立项 on the targets page) are written but never read
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "编号"),
    ("name", "项目名称"),
    ("investor_name", "投资方"),
    ("investor_uscc", "统一社会信用代码"),
    ("chain_id", "产业链"),
    ("node_id", "环节"),
    ("amount_wan", "投资额（万元）"),
    ("park", "落地园区"),
    ("unit_id", "责任单位"),
    ("stage", "阶段"),
    ("signed_on", "签约日期"),
    ("started_on", "开工日期"),
    ("production_on", "投产日期"),
    ("note", "备注"),
    ("updated", "最近阶段变更"),
    ("origin", "来源清单"),
)
ALIASES: dict[str, str] = {
    "编号": "id",
    "序号id": "id",
    "项目编号": "id",
    "id": "id",
    "项目名称": "name",
    "项目": "name",
    "name": "name",
    "投资方": "investor_name",
    "投资主体": "investor_name",
    "投资企业": "investor_name",
    "签约企业": "investor_name",
    "investor": "investor_name",
    "investor_name": "investor_name",
    "统一社会信用代码": "investor_uscc",
    "信用代码": "investor_uscc",
    "uscc": "investor_uscc",
    "investor_uscc": "investor_uscc",
    "产业链": "chain_id",
    "所属产业链": "chain_id",
    "chain": "chain_id",
    "chain_id": "chain_id",
    "环节": "node_id",
    "产业链环节": "node_id",
    "所属环节": "node_id",
    "node": "node_id",
    "node_id": "node_id",
    "投资额(万元)": "amount_wan",
    "总投资(万元)": "amount_wan",
    "计划总投资(万元)": "amount_wan",
    "投资额": "amount_wan",
    "amount_wan": "amount_wan",
    "amount": "amount_wan",
    "落地园区": "park",
    "园区": "park",
    "落地地点": "park",
    "项目地点": "park",
    "park": "park",
    "责任单位": "unit_id",
    "牵头单位": "unit_id",
    "责任部门": "unit_id",
    "unit": "unit_id",
    "阶段": "stage",
    "项目阶段": "stage",
    "进展阶段": "stage",
    "stage": "stage",
    "签约日期": "signed_on",
    "签约时间": "signed_on",
    "signed_on": "signed_on",
    "开工日期": "started_on",
    "开工时间": "started_on",
    "started_on": "started_on",
    "投产日期": "production_on",
    "投产时间": "production_on",
    "production_on": "production_on",
    "备注": "note",
    "进展情况": "note",
    "note": "note",
}
HEADER_SCAN_ROWS = 10
MAX_ROWS = 5000
DATE_FIELDS = ("signed_on", "started_on", "production_on")
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class RowProblem:
    row: int  # the sheet's row number, as Excel shows it
    field: str  # the field's key (FIELD_NAMES) or "id"
    value: str
    reason_zh: str
    reason_en: str

    @property
    def field_zh(self) -> str:
        return "编号" if self.field == "id" else FIELD_NAMES[self.field][0]

    @property
    def field_en(self) -> str:
        return "id" if self.field == "id" else FIELD_NAMES[self.field][1]


class ImportRejected(UserError):
    """The sheet has problems: nothing was imported; `problems` lists each one."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        order = {key: i for i, (key, _header) in enumerate(COLUMNS)}
        self.problems = sorted(problems, key=lambda p: (p.row, order.get(p.field, len(order))))
        first = self.problems[:3]
        zh = "；".join(f"第 {p.row} 行「{p.field_zh}」：{p.reason_zh}" for p in first)
        en = "; ".join(f"row {p.row}, {p.field_en}: {p.reason_en}" for p in first)
        more_zh = f"（共 {len(problems)} 处问题，此处列出前 3 处）" if len(problems) > 3 else ""
        more_en = f" ({len(problems)} problems in all)" if len(problems) > 3 else ""
        super().__init__(
            f"导入失败，未导入任何项目：{zh}{more_zh}",
            f"import failed, no project was imported: {en}{more_en}",
        )


@dataclass
class ImportResult:
    created: list[Project] = field(default_factory=list)
    updated: list[Project] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    project_id: int | None
    stage: str
    values: dict[str, Any]


def _header_key(value: object) -> str | None:
    if value is None:
        return None
    cleaned = re.sub(r"\s+", "", str(value)).replace("（", "(").replace("）", ")").lower()
    return ALIASES.get(cleaned)


def parse_day(value: object) -> date | None:
    """A date cell, an Excel serial number or a date written as text; ValueError if not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return EXCEL_EPOCH + timedelta(days=int(value))
    match = re.fullmatch(
        r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value)
    )
    if not match:
        raise ValueError(value)
    return date(*(int(g) for g in match.groups()))


def parse_amount(value: object) -> float | None:
    """万元; a text amount may carry 万 / 万元 / 亿 / 亿元 and thousands separators."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    cleaned = re.sub(r"[\s,，]", "", str(value))
    factor = 1.0
    if cleaned.endswith(("亿元", "亿")):
        factor, cleaned = 10000.0, cleaned.rstrip("元").removesuffix("亿")
    elif cleaned.endswith(("万元", "万")):
        cleaned = cleaned.rstrip("元").removesuffix("万")
    return float(cleaned) * factor


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _chain_lookup(chains: Mapping[str, Chain]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for chain in chains.values():
        for name in (chain.id, chain.name_zh, chain.name_en):
            lookup.setdefault(name.strip(), chain.id)
    return lookup


def _node_lookup(chain: Chain) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for node in chain.nodes:
        for name in (node.id, node.name_zh, node.name_en):
            lookup.setdefault(name.strip(), node.id)
    return lookup


def _stage_lookup() -> dict[str, str]:
    lookup = {s.value: s.value for s in ProjectStage}
    for stage, (zh, en) in STAGE_NAMES.items():
        lookup[zh] = lookup[en] = str(stage)
    return lookup


def _read_rows(data: bytes) -> tuple[dict[int, str], list[tuple[int, tuple[Any, ...]]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UserError(
            f"无法读取该文件：不是有效的 XLSX 工作簿（{type(exc).__name__}）",
            f"cannot read the file: not a valid XLSX workbook ({type(exc).__name__})",
        ) from exc
    try:
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + HEADER_SCAN_ROWS + 1))
    finally:
        book.close()
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = {i: key for i, cell in enumerate(row) if (key := _header_key(cell))}
        if "name" in columns.values():
            body = [(index + 2 + i, r) for i, r in enumerate(rows[index + 1 :])]
            if len(body) > MAX_ROWS:
                raise UserError(
                    f"一次最多导入 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows per import"
                )
            return columns, body
    raise UserError(
        f"前 {HEADER_SCAN_ROWS} 行中没有找到表头（应含「项目名称」列）",
        f"no header row in the first {HEADER_SCAN_ROWS} rows (it needs a 项目名称 / name column)",
    )


_TEXT_LIMITS = {"name": 200, "investor_name": 200, "park": 200, "note": 4000}
_BLANK: dict[str, Any] = {
    "name": "",
    "investor_name": "",
    "park": "",
    "note": "",
    "investor_uscc": None,
    "chain_id": None,
    "node_id": None,
    "amount_wan": None,
    "unit_id": None,
    "signed_on": None,
    "started_on": None,
    "production_on": None,
}


def _check_row(
    number: int,
    cells: dict[str, Any],
    actor: Actor,
    session: Session,
    chains: Mapping[str, Chain],
    units: dict[str, Unit],
    problems: list[RowProblem],
) -> _Row | None:
    """One row's values, or None with its problems appended. `cells` holds the sheet's
    columns only: a column the sheet lacks keeps the project's value (or the default)."""
    start = len(problems)

    def problem(key: str, zh: str, en: str) -> None:
        problems.append(RowProblem(number, key, _cell_text(cells.get(key)), zh, en))

    current: Project | None = None
    id_text = _cell_text(cells.get("id"))
    if id_text:
        current = session.get(Project, int(id_text)) if id_text.isdigit() else None
        if current is None:
            problem(
                "id",
                "没有此编号的项目（新项目请留空）",
                "no project with this id (leave it empty for a new one)",
            )
            return None
    values = {k: getattr(current, k) for k in _BLANK} if current else dict(_BLANK)
    for key, limit in _TEXT_LIMITS.items():
        if key in cells:
            values[key] = _cell_text(cells[key])
            if len(values[key]) > limit:
                problem(key, f"过长：最多 {limit} 个字符", f"too long: at most {limit} characters")
    if "investor_uscc" in cells:
        uscc = _cell_text(cells["investor_uscc"]).upper()
        if uscc and not is_valid_uscc(uscc):
            problem(
                "investor_uscc",
                "无效：应为 18 位且校验位正确",
                "invalid: 18 characters with a correct check digit",
            )
        values["investor_uscc"] = uscc or None
    if "chain_id" in cells:
        chain_text = _cell_text(cells["chain_id"])
        values["chain_id"] = _chain_lookup(chains).get(chain_text)
        if chain_text and values["chain_id"] is None:
            problem(
                "chain_id",
                "未知产业链（填写产业链名称或编号）",
                "unknown chain (give its name or id)",
            )
    chain = chains.get(values["chain_id"]) if values["chain_id"] else None
    if "node_id" in cells:
        node_text = _cell_text(cells["node_id"])
        values["node_id"] = None
        if node_text and chain is not None:
            values["node_id"] = _node_lookup(chain).get(node_text)
            if values["node_id"] is None:
                problem(
                    "node_id",
                    f"产业链「{chain.name_zh}」没有此环节",
                    f"chain {chain.id} has no such node",
                )
    elif values["node_id"] and chain is not None and values["node_id"] not in chain.node_ids:
        problem("node_id", "原环节不属于新的产业链", "the project's node is not on the new chain")
    if "amount_wan" in cells:
        try:
            values["amount_wan"] = parse_amount(cells["amount_wan"])
            if values["amount_wan"] is not None and not values["amount_wan"] >= 0:
                problem("amount_wan", "不能为负数", "cannot be negative")
        except ValueError:
            problem("amount_wan", "应为数字（万元）", "must be a number (10k CNY)")
    if "unit_id" in cells:
        unit_text = _cell_text(cells["unit_id"])
        values["unit_id"] = None
        if unit_text:
            unit = units.get(unit_text)
            if unit is None:
                problem(
                    "unit_id",
                    "单位不存在（请先在组织架构中添加）",
                    "no such unit (add it to the organisation first)",
                )
            else:
                values["unit_id"] = unit.id
    for key in DATE_FIELDS:
        if key in cells:
            try:
                values[key] = parse_day(cells[key])
            except (ValueError, OverflowError):
                problem(key, "日期无法识别（如 2025-05-26）", "not a date (e.g. 2025-05-26)")
    stage_text = _cell_text(cells.get("stage"))
    default_stage = current.stage if current is not None else ProjectStage.lead.value
    stage = _stage_lookup().get(stage_text) if stage_text else default_stage
    if stage is None:
        names = "、".join(zh for zh, _ in STAGE_NAMES.values())
        problem("stage", f"未知阶段（可选：{names}）", f"unknown stage ({', '.join(ProjectStage)})")
        stage = default_stage
    # what a stage needs and the order of dates, for the fields that could be read
    flagged = {p.field for p in problems[start:]}
    for key in required_fields(stage):
        if key not in flagged and values.get(key) in (None, "", 0.0):
            if key in ("name", "investor_name", "chain_id"):
                problem(key, "必填项为空", "required, but empty")
            else:
                zh, en = STAGE_NAMES[stage]
                problem(key, f"阶段「{zh}」需要填写此项", f"needed at stage {en!r}")
    present = [
        (k, values[k]) for k in DATE_FIELDS if k not in flagged and values.get(k) is not None
    ]
    for (k1, d1), (k2, d2) in pairwise(present):
        if d2 < d1:
            problem(
                k2, f"不能早于{FIELD_NAMES[k1][0]}", f"cannot be before the {FIELD_NAMES[k1][1]}"
            )
    if len(problems) > start:
        return None
    target = Target(Kind.project, values["chain_id"], values["unit_id"])
    if current is not None:
        before = Target(Kind.project, current.chain_id, current.unit_id)
        if not (may(actor, Action.edit, before) and may(actor, Action.edit, target)):
            problem("id", "无权修改此项目", "you may not change this project")
        elif stage != current.stage and ProjectStage(stage) not in next_stages(current.stage):
            problem(
                "stage",
                f"不能从「{STAGE_NAMES[current.stage][0]}」转为此阶段",
                f"cannot move from {current.stage!r} to this stage",
            )
    elif not may(actor, Action.create, target):
        problem("chain_id", "无权在此产业链新建项目", "you may not add projects to this chain")
    if len(problems) > start:
        return None
    return _Row(number, current.id if current is not None else None, stage, values)


def import_projects(
    session: Session, actor: Actor, data: bytes, *, chains: Mapping[str, Chain]
) -> ImportResult:
    """Check every row, then write them all in one savepoint; any problem → ImportRejected
    listing row, field and reason, and nothing written."""
    columns, body = _read_rows(data)
    units = {u.name: u for u in list_units(session)}
    problems: list[RowProblem] = []
    rows: list[_Row] = []
    for number, raw in body:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
            continue
        cells = {key: raw[i] if i < len(raw) else None for i, key in columns.items()}
        checked = _check_row(number, cells, actor, session, chains, units, problems)
        if checked is not None:
            rows.append(checked)
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise UserError("表中没有项目行", "the sheet has no project rows")
    result = ImportResult()
    with session.begin_nested():
        for row in rows:
            try:
                _write(session, actor, row, chains, result)
            except UserError as exc:
                # a rule the row check does not cover (e.g. a lost project needs a reason)
                raise ImportRejected(
                    [RowProblem(row.number, "stage", row.stage, exc.message_zh, exc.message_en)]
                ) from exc
    audit(
        session,
        actor,
        "project.import",
        "projects",
        {"created": len(result.created), "updated": len(result.updated)},
    )
    return result


def _write(
    session: Session, actor: Actor, row: _Row, chains: Mapping[str, Chain], result: ImportResult
) -> None:
    note = f"表格导入第 {row.number} 行"
    values = dict(row.values)
    if row.project_id is None:
        reason = values.get("note") or note
        result.created.append(
            add_project(session, actor, stage=row.stage, stage_note=reason, chains=chains, **values)
        )
        return
    project = get_project(session, row.project_id)
    if row.stage != project.stage:
        change_stage(
            session,
            actor,
            project.id,
            row.stage,
            expected_version=None,
            stage_note=values.get("note") or note,
            chains=chains,
            **values,
        )
    else:
        update_project(session, actor, project.id, expected_version=None, chains=chains, **values)
    result.updated.append(project)


def _origin(project: Project, chains: Mapping[str, Chain] | None) -> str:
    """「广西壮族自治区梧州市·甘蔗制糖·精制糖」: the target list the project came from."""
    if not project.target_chain_id:
        return ""
    chain = chains.get(project.target_chain_id) if chains else None
    node = project.target_node_id or ""
    if chain is not None and node in chain.node_ids:
        node = chain.node(node).name_zh
    parts = [
        region_full_name(project.target_region_code) if project.target_region_code else "",
        chain.name_zh if chain is not None else project.target_chain_id,
        node,
    ]
    return "·".join(p for p in parts if p)


def projects_xlsx(
    projects: Sequence[Project],
    *,
    chains: Mapping[str, Chain] | None = None,
    title: str = "招商项目库",
) -> bytes:
    """The projects in the import layout: a title row, the header row, one row each."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("招商项目")
    head = book.add_format({"bold": True, "bg_color": "#e5edf7", "border": 1, "text_wrap": True})
    big = book.add_format({"bold": True, "font_size": 14})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    stamp = utcnow()
    sheet.write(0, 0, f"{title}（导出于 {local_day(stamp).isoformat()}）", big)
    for col, (_key, header) in enumerate(COLUMNS):
        sheet.write(1, col, header, head)
    widths = {"name": 28, "investor_name": 26, "investor_uscc": 22, "park": 18, "unit_id": 18}
    widths["origin"] = 34
    for col, (key, _header) in enumerate(COLUMNS):
        sheet.set_column(col, col, widths.get(key, 12 if key != "note" else 30))
    for r, project in enumerate(projects, start=2):
        chain = chains.get(project.chain_id) if chains else None
        node_name = project.node_id or ""
        if chain is not None and project.node_id in chain.node_ids:
            node_name = chain.node(project.node_id).name_zh
        row: dict[str, Any] = {
            "id": project.id,
            "name": project.name,
            "investor_name": project.investor_name,
            "investor_uscc": project.investor_uscc or "",
            "chain_id": chain.name_zh if chain is not None else project.chain_id,
            "node_id": node_name,
            "amount_wan": project.amount_wan,
            "park": project.park,
            "unit_id": project.unit.name if project.unit is not None else "",
            "stage": STAGE_NAMES[project.stage][0],
            "note": project.note,
            "updated": local_day(project.stage_changed_at),
            "origin": _origin(project, chains),
        }
        for col, (key, _header) in enumerate(COLUMNS):
            value = row.get(key, getattr(project, key, None))
            if value is None or value == "":
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, col, datetime.combine(value, datetime.min.time()), day)
            elif key == "amount_wan":
                sheet.write_number(r, col, float(value), money)
            elif key == "id":
                sheet.write_number(r, col, int(value))
            else:
                sheet.write_string(r, col, str(value))
    sheet.freeze_panes(2, 2)
    book.close()
    return out.getvalue()
