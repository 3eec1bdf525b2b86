"""`build_briefing` against a hand-made warehouse: files written, firms per county, errors."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA, firm, toy_firms

from chainatlas.atlas import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services.briefing import build_briefing, county_firms
from chainatlas.services.load import load_enterprises
from chainatlas.settings import Settings

WHEN = dt.datetime(2025, 6, 1, 9, 30)
CHROMIUM = "/usr/bin/chromium"
# toy_firms: 450403 (梧州万秀区) a×4, c×3, d×1 and a deregistered b; 440106 a×2, b×6, c×5, d×1.
# EXTRA: one firm of 岑溪市 making products of two nodes (a and c), one b firm in 藤县.
EXTRA = [(300, "450481", "甲料生产；丙品组装"), (301, "450422", "乙件制造")]


def extra_firms() -> pl.DataFrame:
    rows = [firm(i, region, scope) for i, region, scope in EXTRA]
    rows[0]["products"] = "甲料生产；丙品组装"
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


@pytest.fixture()
def settings(tmp_path: Path, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path / "home")
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, pl.concat([toy_firms(), extra_firms()]), {"toy": toy_chain})
    return s


def toy_targets() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "uscc": ["T00000000000000021", "T00000000000000022"],
            "name": ["测试企业21", "测试企业22"],
            "node_id": ["b", "b"],
            "region_code": ["440106", "440106"],
            "province_code": ["440000", "440000"],
            "city_code": ["440100", "440100"],
            "score": [0.7, 0.6],
            "reason_zh": ["乙件龙头", "乙件配套"],
            "reason_en": ["B leader", "B supplier"],
            "registered_capital": [100.0, 100.0],
        }
    )


def test_county_firms_counts_each_firm_once(settings: Settings) -> None:
    with Warehouse(settings.warehouse_path, read_only=True) as wh:
        nodes = wh.sql("SELECT node_id FROM assignments WHERE uscc = 'T00000000000000300'")
        assert sorted(nodes["node_id"].to_list()) == ["a", "c"]
        counts = county_firms(wh, "toy", "450000")
        assert dict(counts.iter_rows()) == {"450403": 8, "450422": 1, "450481": 1}
        assert dict(county_firms(wh, "toy", "440000").iter_rows()) == {"440106": 14}


def test_without_chromium_svg_and_xlsx_are_written(
    tmp_path: Path, settings: Settings, toy_chain: Chain
) -> None:
    out = tmp_path / "pack"
    with pytest.raises(UserError) as err:
        build_briefing(
            settings,
            {"toy": toy_chain},
            "450400",
            "toy",
            out,
            targets=toy_targets(),
            chromium=tmp_path / "no-chromium",
            generated_at=WHEN,
        )
    assert "chromium" in err.value.message_zh.lower() and "SVG" in err.value.message_en
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "450400-toy-清单.xlsx",
            "450400-toy-图1-产业链全景图.svg",
            "450400-toy-图2-本地现状图.svg",
            "450400-toy-图3-企业分布图.svg",
            "450400-toy-图4-技术路线图.svg",
            "450400-toy-图5-招商路线图.svg",
        ]
    )
    svg = (out / "450400-toy-图3-企业分布图.svg").read_text("utf-8")
    assert 'data-code="450403" data-count="8"' in svg
    assert 'data-code="450481" data-count="1"' in svg
    route = (out / "450400-toy-图5-招商路线图.svg").read_text("utf-8")
    assert 'data-origin="440100" data-targets="2"' in route
    book = openpyxl.load_workbook(out / "450400-toy-清单.xlsx")
    ws = book["目标企业清单"]
    assert [c.value for c in ws[2]][:4] == [1, "乙件", "b", "测试企业21"]
    assert ws.max_row == 3


def test_selection_and_language(tmp_path: Path, settings: Settings, toy_chain: Chain) -> None:
    out = tmp_path / "pack"
    with pytest.raises(UserError):
        build_briefing(
            settings,
            {"toy": toy_chain},
            "450400",
            "toy",
            out,
            maps=["status"],
            lists=["problems"],
            lang="en",
            chromium=tmp_path / "no-chromium",
        )
    assert sorted(p.name for p in out.iterdir()) == [
        "450400-toy-lists.xlsx",
        "450400-toy-map1-status.svg",
    ]
    book = openpyxl.load_workbook(out / "450400-toy-lists.xlsx")
    assert book.sheetnames == ["Overview", "Problems"]
    problems = book["Problems"]
    assert [c.value for c in problems[1]][:3] == ["#", "Problem", "Node"]
    assert problems.max_row == 1  # every toy node is strong in 梧州: no problem rows


@pytest.mark.parametrize(
    ("region", "chain", "maps", "message"),
    [
        ("450400", "nope", ("panorama",), "no chain nope"),
        ("999999", "toy", ("panorama",), "unknown region code 999999"),
        ("450400", "toy", ("radar",), "unknown map"),
    ],
)
def test_user_errors(
    tmp_path: Path,
    settings: Settings,
    toy_chain: Chain,
    region: str,
    chain: str,
    maps: tuple[str, ...],
    message: str,
) -> None:
    with pytest.raises(UserError, match=message):
        build_briefing(settings, {"toy": toy_chain}, region, chain, tmp_path / "o", maps=maps)


def test_bad_targets_and_missing_warehouse(
    tmp_path: Path, settings: Settings, toy_chain: Chain
) -> None:
    with pytest.raises(UserError, match="reason_zh"):
        build_briefing(
            settings,
            {"toy": toy_chain},
            "450400",
            "toy",
            tmp_path / "o",
            targets=toy_targets().drop("reason_zh"),
        )
    with pytest.raises(UserError, match="no warehouse"):
        build_briefing(
            Settings(home=tmp_path / "empty"), {"toy": toy_chain}, "450400", "toy", tmp_path / "o"
        )


@pytest.mark.browser
def test_full_pack(tmp_path: Path, settings: Settings, toy_chain: Chain) -> None:
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    out = tmp_path / "pack"
    result = build_briefing(
        settings,
        {"toy": toy_chain},
        "450400",
        "toy",
        out,
        targets=toy_targets(),
        lists=["targets", "projects", "problems", "policies"],
        generated_at=WHEN,
    )
    assert result.report == out / "450400-toy-简报.pdf"
    assert len(result.svgs) == len(result.pngs) == 5
    assert len(result.files) == 12 and all(p.is_file() for p in result.files)
    assert {"diagnose", "assemble", "svg+xlsx", "png+pdf"} <= set(result.timings)
    assert result.diagnosis.region.code == "450400"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(result.report), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "示例链产业链五图四清单" in text and "测试企业21" in text
