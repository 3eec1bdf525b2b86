"""Projects XLSX in the offices' layout on SQLite and PostgreSQL: import checks every row and
is all-or-nothing; export reads back in; a re-import updates by 编号 and records stages."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.ingest.validators import make_uscc
from chainatlas.workflow import projects
from chainatlas.workflow.access import Actor
from chainatlas.workflow.models import Project
from chainatlas.workflow.project_xlsx import (
    COLUMNS,
    ImportRejected,
    import_projects,
    parse_amount,
    parse_day,
    projects_xlsx,
)

SYSTEM = Actor.system("setup")
USCC = make_uscc("440106", 3)
BAD_USCC = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")  # wrong check digit
# as an office keeps it: a title row, variant headers, names rather than ids
HEADERS = ["序号", "项目名称", "投资主体", "统一社会信用代码", "所属产业链", "环节", "总投资（万元）",
           "落地园区", "牵头单位", "项目阶段", "签约时间", "开工时间", "备注"]  # fmt: skip
GOOD_ROWS = [
    [1, "乙件扩产项目", "广州乙件制造有限公司", USCC, "示例链", "乙件", "1.2亿", "梧州高新区",
     "商务局", "签约", "2025年5月26日", None, "东盟博览会签约"],
    [2, "甲料深加工项目", "某甲料集团", None, "toy", "a", 8000, None, "自然资源局", "洽谈",
     None, None, None],
    [3, "丙品组装基地", "某丙品公司", None, "示例链", None, "3,500万", "苍梧产业园", "商务局", "开工",
     datetime(2025, 3, 1), "2025/6/18", None],
]  # fmt: skip


def _sheet(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["梧州市重点产业链招商项目库（2025 年 6 月）"])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Project)) or 0


def test_parsers() -> None:
    assert parse_amount("1.2亿") == 12000.0
    assert parse_amount("3,500万元") == 3500.0
    assert parse_amount(42) == 42.0 and parse_amount(" ") is None
    with pytest.raises(ValueError):
        parse_amount("若干")
    assert parse_day("2025年5月26日") == parse_day("2025/5/26") == parse_day("2025-05-26")
    assert parse_day(45803) == date(2025, 5, 26)  # an Excel serial day
    assert parse_day(datetime(2025, 5, 26, 9, 30)) == date(2025, 5, 26)
    with pytest.raises(ValueError):
        parse_day("下月")


def test_import_the_office_sheet(db: Database, organisation, chains) -> None:
    with db.session() as s:
        result = import_projects(
            s, organisation.actor(s, "office"), _sheet(GOOD_ROWS), chains=chains
        )
        assert len(result.created) == 3 and result.updated == []
    with db.session() as s:
        rows = {p.name: p for p in s.scalars(select(Project))}
        first = rows["乙件扩产项目"]
        assert (first.chain_id, first.node_id, first.amount_wan) == ("toy", "b", 12000.0)
        assert (first.stage, first.signed_on, first.investor_uscc) == (
            "signed",
            date(2025, 5, 26),
            USCC,
        )
        assert first.unit is not None and first.unit.name == "商务局"
        assert first.history[0].to_stage == "signed" and first.history[0].note == "东盟博览会签约"
        third = rows["丙品组装基地"]
        assert (third.stage, third.amount_wan, third.started_on) == (
            "started",
            3500.0,
            date(2025, 6, 18),
        )
        assert (
            rows["甲料深加工项目"].node_id == "a" and rows["甲料深加工项目"].stage == "negotiating"
        )
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.import")).one()
        assert '"created": 3' in audit.detail


def test_every_problem_is_reported_and_nothing_is_written(
    db: Database, organisation, chains
) -> None:
    bad = [
        GOOD_ROWS[0],
        [4, "", "某公司", BAD_USCC, "不存在的链", None, "-5", None, None, None, None, None, None],
        [5, "项目五", "某公司", None, "toy", "zz", "很多", None, "统计局", "完成", "昨天", None, None],
        [6, "项目六", "某公司", None, "toy", None, 100, None, "商务局", "签约", None, None, None],
        [7, "项目七", "某公司", None, "toy", None, 100, "园区", "商务局", "开工", "2025-06-01", "2025-05-01", None],
        [None] * 13,  # blank rows are skipped
    ]  # fmt: skip
    with pytest.raises(ImportRejected) as caught, db.session() as s:
        import_projects(s, organisation.actor(s, "office"), _sheet(bad), chains=chains)
    problems = {(p.row, p.field): p for p in caught.value.problems}
    assert set(problems) == {
        (4, "name"),
        (4, "investor_uscc"),
        (4, "chain_id"),
        (4, "amount_wan"),
        (5, "node_id"),
        (5, "amount_wan"),
        (5, "unit_id"),
        (5, "signed_on"),
        (5, "stage"),
        (6, "signed_on"),
        (7, "started_on"),
    }
    assert problems[(4, "chain_id")].value == "不存在的链"
    assert problems[(4, "amount_wan")].reason_zh == "不能为负数"
    assert problems[(6, "signed_on")].reason_zh == "阶段「签约」需要填写此项"
    assert problems[(6, "signed_on")].field_zh == "签约日期"
    assert problems[(7, "started_on")].reason_en == "cannot be before the signing date"
    assert problems[(5, "unit_id")].reason_en.startswith("no such unit")
    assert caught.value.message_zh.startswith("导入失败，未导入任何项目：第 4 行「项目名称」")
    assert "11 处" in caught.value.message_zh
    assert _count(db) == 0  # not even the good first row


def test_scope_of_a_member_unit(db: Database, organisation, chains) -> None:
    rows = [GOOD_ROWS[1], [9, "别人的项目", "某公司", None, "toy", None, None, None, "商务局", "线索", None, None, None]]  # fmt: skip
    with pytest.raises(ImportRejected) as caught, db.session() as s:
        import_projects(s, organisation.actor(s, "land"), _sheet(rows), chains=chains)
    assert [(p.row, p.field) for p in caught.value.problems] == [(4, "chain_id")]
    assert _count(db) == 0


def test_export_then_reimport_updates_by_id(db: Database, organisation, chains) -> None:
    with db.session() as s:
        import_projects(s, SYSTEM, _sheet(GOOD_ROWS), chains=chains)
    with db.session() as s:  # opened from 梧州's target list on node b (立项)
        origin = s.scalars(select(Project).where(Project.name == "乙件扩产项目")).one()
        origin.target_region_code, origin.target_chain_id, origin.target_node_id = (
            "450400",
            "toy",
            "b",
        )
    with db.session() as s:
        data = projects_xlsx(projects.list_projects(s, SYSTEM), chains=chains)
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    assert str(sheet.cell(1, 1).value).startswith("招商项目库（导出于 ")
    assert [sheet.cell(2, c + 1).value for c in range(len(COLUMNS))] == [h for _, h in COLUMNS]
    header = {sheet.cell(2, c).value: c for c in range(1, len(COLUMNS) + 1)}
    rows = {sheet.cell(r, header["项目名称"]).value: r for r in range(3, sheet.max_row + 1)}
    signed = rows["乙件扩产项目"]
    assert sheet.cell(signed, header["产业链"]).value == "示例链"
    assert sheet.cell(signed, header["环节"]).value == "乙件"
    assert sheet.cell(signed, header["阶段"]).value == "签约"
    assert sheet.cell(signed, header["投资额（万元）"]).value == 12000
    assert sheet.cell(signed, header["签约日期"]).value == datetime(2025, 5, 26)
    assert sheet.cell(signed, header["来源清单"]).value == "广西壮族自治区梧州市·示例链·乙件"
    assert all(
        sheet.cell(r, header["来源清单"]).value is None for r in rows.values() if r != signed
    )
    # the office starts the signed project and re-imports the sheet
    sheet.cell(signed, header["阶段"]).value = "开工"
    sheet.cell(signed, header["开工日期"]).value = "2025-07-01"
    sheet.cell(signed, header["备注"]).value = "7 月 1 日开工"
    out = io.BytesIO()
    book.save(out)
    with db.session() as s:
        result = import_projects(s, organisation.actor(s, "office"), out.getvalue(), chains=chains)
        assert (len(result.created), len(result.updated)) == (0, 3)
    with db.session() as s:
        assert _count(db) == 3
        project = s.scalars(select(Project).where(Project.name == "乙件扩产项目")).one()
        assert (project.stage, project.started_on) == ("started", date(2025, 7, 1))
        # the origin column is written, never read: the re-import keeps it as it was
        assert (project.target_region_code, project.target_node_id) == ("450400", "b")
        assert [(h.from_stage, h.to_stage, h.note) for h in project.history][-1] == (
            "signed",
            "started",
            "7 月 1 日开工",
        )
        # unchanged rows changed nothing: one history row each, version untouched
        other = s.scalars(select(Project).where(Project.name == "甲料深加工项目")).one()
        assert len(other.history) == 1 and other.version == 1


def test_unreadable_files(db: Database, organisation, chains) -> None:
    with pytest.raises(UserError, match="不是有效的 XLSX"), db.session() as s:
        import_projects(s, SYSTEM, b"not a workbook", chains=chains)
    with pytest.raises(UserError, match="没有找到表头"), db.session() as s:
        import_projects(s, SYSTEM, _sheet([["a", "b"]], headers=["甲", "乙"]), chains=chains)
    with pytest.raises(UserError, match="没有项目行"), db.session() as s:
        import_projects(s, SYSTEM, _sheet([]), chains=chains)
