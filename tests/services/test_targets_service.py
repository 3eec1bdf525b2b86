"""`run_targets` against a configured warehouse, and its JSON, table and XLSX renderings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from tests.targets.conftest import AS_OF, G1, REGION, X1, build_target_warehouse

from chainatlas.atlas import Chain
from chainatlas.briefing.frames import cell_text
from chainatlas.errors import UserError
from chainatlas.services.targets import (
    NODE_COLUMNS,
    PARAMETER_COLUMNS,
    TARGET_COLUMNS,
    nodes_frame,
    parameters_frame,
    resolve_provinces,
    run_targets,
    targets_frame,
    targets_table,
    targets_xlsx,
)
from chainatlas.settings import Settings
from chainatlas.targets.model import SCHEMA_ID, TargetList

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path_factory.mktemp("home"))
    build_target_warehouse(s.warehouse_path, toy_chain)
    return s


@pytest.fixture(scope="module")
def result(
    settings: Settings, toy_chain: Chain, tmp_path_factory: pytest.TempPathFactory
) -> TargetList:
    listed = tmp_path_factory.mktemp("lists") / "contacted.csv"
    listed.write_text(f"统一社会信用代码,备注,日期\n{X1},已拜访,2025-11-03\n", "utf-8")
    return run_targets(
        settings, {"toy": toy_chain}, REGION, "toy", top=3, exclude_file=listed, as_of=AS_OF
    )


def test_run_targets(result: TargetList) -> None:
    node = result.nodes[0]
    assert node.id == "b" and node.targets[0].uscc == G1
    assert node.excluded_contacted == 1 and X1 not in [t.uscc for t in node.targets]
    assert result.exclusions.listed == 1 and result.exclusions.file is not None
    assert result.synthetic_data is False and result.as_of == AS_OF


def test_json_contract(result: TargetList) -> None:
    data = json.loads(result.to_json())
    assert data["schema"] == SCHEMA_ID == "chainatlas.targets/1"
    assert data["nodes"][0]["break"] is True and "is_break" not in data["nodes"][0]
    assert set(data["weights"]) == set(data["nodes"][0]["targets"][0]["components"])
    assert TargetList.model_validate(data) == result


def test_schema_is_published() -> None:
    published = json.loads((SCHEMAS / "targets-1.schema.json").read_text("utf-8"))
    assert published == TargetList.model_json_schema(by_alias=True)


def test_source_provinces_by_name(settings: Settings, toy_chain: Chain) -> None:
    assert resolve_provinces(["江苏", "浙江省", "440000", "江苏"]) == ["320000", "330000", "440000"]
    with pytest.raises(UserError, match="无法识别的省份：火星"):
        resolve_provinces(["火星"])
    sichuan = run_targets(
        settings, {"toy": toy_chain}, REGION, "toy", top=3, sources=["四川"], as_of=AS_OF
    )
    assert sichuan.source_provinces == ["510000"]
    first = sichuan.nodes[0].targets[0]
    assert first.uscc == G1 and first.components["relocation"] == 0.0
    assert not first.origin.source and "relocation" not in first.reasons


def test_errors_the_user_can_act_on(settings: Settings, toy_chain: Chain, tmp_path: Path) -> None:
    atlas = {"toy": toy_chain}
    with pytest.raises(UserError, match="没有产业链 nope"):
        run_targets(settings, atlas, REGION, "nope")
    with pytest.raises(UserError, match="未知的行政区划代码 999999"):
        run_targets(settings, atlas, "999999", "toy")
    with pytest.raises(UserError, match="仓库不存在"):
        run_targets(Settings(home=tmp_path / "empty"), atlas, REGION, "toy")
    bad = tmp_path / "bad.csv"
    bad.write_text("uscc\n12345\n", "utf-8")
    with pytest.raises(UserError, match="第 2 行「uscc」"):
        run_targets(settings, atlas, REGION, "toy", exclude_file=bad)
    with pytest.raises(UserError, match="无法读取排除名单"):
        run_targets(settings, atlas, REGION, "toy", exclude_file=tmp_path / "missing.csv")


def test_table(result: TargetList) -> None:
    console = Console(record=True, width=220)
    console.print(targets_table(result, "zh"))
    text = console.export_text()
    assert "广西壮族自治区梧州市万秀区·示例链 招商目标企业（每环节前 3 家）" in text
    assert "权重：环节契合 0.15，规模 0.2" in text
    assert "乙件（缺链·断链）候选 22 家，已排除 1 家" in text
    assert "  1. 本地链主梧州丙一的供应商" in text
    console = Console(record=True, width=220)
    console.print(targets_table(result, "en"))
    assert "B part (missing · break): 22 candidates, 1 excluded" in console.export_text()


def _cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_xlsx_cell_by_cell(result: TargetList, tmp_path: Path) -> None:
    path = tmp_path / "targets.xlsx"
    targets_xlsx(result, path, "zh")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["目标企业", "环节", "参数"]
    sheets = [
        ("目标企业", targets_frame(result, "zh"), TARGET_COLUMNS),
        ("环节", nodes_frame(result, "zh"), NODE_COLUMNS),
        ("参数", parameters_frame(result, "zh"), PARAMETER_COLUMNS),
    ]
    for name, frame, columns in sheets:
        ws = book[name]
        cells = _cells(ws)
        assert cells[0] == [c.zh for c in columns]
        assert len(cells) == frame.height + 1
        for row, values in zip(
            cells[1:], frame.select([c.id for c in columns]).rows(), strict=True
        ):
            for got, want, column in zip(row, values, columns, strict=True):
                if column.kind == "list":
                    want = cell_text(want, "list") if want else None
                if column.kind == "date" and want is not None:
                    got = got.date().isoformat()  # a date cell, read back as a datetime
                assert got == want, (name, column.id)
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref is not None
        assert len(set(cells[0])) == len(cells[0]), f"{name}: a header twice"
    targets = book["目标企业"]
    header = [c.value for c in targets[1]]
    first = dict(zip(header, [c.value for c in targets[2]], strict=True))
    assert first["统一社会信用代码"] == G1 and first["序号"] == 1 and first["状态"] == "缺链·断链"
    assert first["以商招商得分"] == pytest.approx(0.8) and first["首要理由"] == "以商招商"
    assert first["本地伙伴"] == "链主梧州丙一（供应商）"

    def number_format(heading: str) -> str:
        return str(targets.cell(row=2, column=header.index(heading) + 1).number_format)

    assert number_format("得分") == "0.000"
    assert (
        number_format("注册资本（万元）") == "#,##0.00" and number_format("距离（公里）") == "#,##0"
    )
    assert number_format("成立日期") == "yyyy-mm-dd"
    assert isinstance(first["成立日期"], dt.datetime)
    params = {r[0]: r[1] for r in _cells(book["参数"])[1:]}
    assert params["权重 · 以商招商"] == "0.25" and params["计算日期"] == "2026-01-01"
    assert params["产业转出地省份"].startswith("北京市、天津市、河北省")


def test_xlsx_in_english(result: TargetList, tmp_path: Path) -> None:
    targets_xlsx(result, tmp_path / "en.xlsx", "en")
    book = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert book.sheetnames == ["Targets", "Nodes", "Parameters"]
    assert (
        book["Targets"]["A1"].value == "node id"
        and book["Targets"]["C2"].value == "missing · break"
    )
