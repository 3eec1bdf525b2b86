"""Opportunities on a small warehouse of two chains and four counties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from tests.conftest import firm

from chainatlas.atlas import Chain, parse_template
from chainatlas.diagnose.opportunities import find_opportunities, region_matrix
from chainatlas.engine.warehouse import Warehouse
from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA
from chainatlas.metrics.complexity import complexity_table
from chainatlas.services.load import load_enterprises
from chainatlas.services.opportunities import opportunities_table
from chainatlas.settings import OpportunityWeights, StatusThresholds

SECOND = """\
id: toy2
name_zh: 第二链
name_en: Second chain
nodes:
  - {id: x, name_zh: 戊料, name_en: X material, stage: upstream, industry_codes: ["2612"], include: [戊料生产]}
  - {id: y, name_zh: 己品, name_en: Y product, stage: downstream, industry_codes: ["3312"], include: [己品制造]}
edges:
  - {supplier: x, customer: y}
"""

PLAN = [
    ("450403", "甲料生产", 4),
    ("450403", "丙品组装", 3),
    ("450403", "丁类服务", 1),
    ("440106", "甲料生产", 2),
    ("440106", "乙件制造", 6),
    ("440106", "丙品组装", 5),
    ("440106", "丁类服务", 1),
    ("440106", "戊料生产", 3),
    ("320506", "乙件制造", 3),
    ("320506", "戊料生产", 2),
    ("320506", "己品制造", 4),
    ("510104", "甲料生产", 1),
    ("510104", "戊料生产", 1),
    ("510104", "己品制造", 1),
]


@pytest.fixture()
def atlas(toy_chain: Chain) -> dict[str, Chain]:
    return {"toy": toy_chain, "toy2": parse_template(SECOND, "toy2.yaml")}


@pytest.fixture()
def warehouse(tmp_path: Path, atlas: dict[str, Chain]) -> Iterator[Warehouse]:
    rows, i = [], 0
    for region, scope, count in PLAN:
        for _ in range(count):
            i += 1
            row = firm(i, region, scope)
            # half the firms are young: national growth is defined and positive
            row["established"] = dt.date(2024, 3, 1) if i % 2 else dt.date(2015, 1, 1)
            rows.append(row)
    wh = Warehouse(tmp_path / "w.duckdb")
    load_enterprises(wh, pl.DataFrame(rows, schema=ENTERPRISES_SCHEMA), atlas)
    yield wh
    wh.close()


def run(wh: Warehouse, atlas: dict[str, Chain], region: str, **kw: object):  # type: ignore[no-untyped-def]
    return find_opportunities(
        wh,
        atlas,
        region,
        weights=OpportunityWeights(),
        thresholds=StatusThresholds(),
        **kw,  # type: ignore[arg-type]
    )


def test_candidates_are_the_nodes_not_held(warehouse: Warehouse, atlas: dict[str, Chain]) -> None:
    result = run(warehouse, atlas, "450403", top=None)
    matrix = region_matrix(warehouse, "county")
    assert sorted(matrix["region_code"].unique()) == ["320506", "440106", "450403", "510104"]
    cx = complexity_table(matrix, region="region_code", product="product", value="firm_count")
    mine = {
        r["product"]: r for r in cx.filter(pl.col("region_code") == "450403").iter_rows(named=True)
    }
    held = {p for p, r in mine.items() if r["mcp"] == 1}
    assert held == {"toy/a", "toy/c", "toy/d"}
    kinds = {(o.kind, o.chain_id, o.node_id) for o in result.items}
    # b is missing beside strong a and c; chain toy2 holds nothing here
    assert kinds == {("extend", "toy", "b"), ("build", "toy2", None)}
    by_node = {o.node_id: o for o in result.items}
    assert by_node["b"].density == pytest.approx(mine["toy/b"]["density"])
    assert by_node["b"].cog == pytest.approx(mine["toy/b"]["cog"])
    assert set(by_node["b"].adjacent_strong) <= {"a", "c", "d"} and by_node["b"].adjacent_strong
    build = by_node[None]
    assert build.density == pytest.approx(
        (mine["toy2/x"]["density"] + mine["toy2/y"]["density"]) / 2
    )
    assert result.diversity == 3
    assert [o.rank for o in result.items] == list(range(1, len(result.items) + 1))
    assert [o.score for o in result.items] == sorted((o.score for o in result.items), reverse=True)
    assert all(o.reason_zh and o.reason_en for o in result.items)
    assert build.growth is not None and build.growth > 0


def test_one_chain_and_top(warehouse: Warehouse, atlas: dict[str, Chain]) -> None:
    only = run(warehouse, atlas, "320506", chain_id="toy", top=None)
    assert {o.chain_id for o in only.items} == {"toy"}
    assert {o.node_id for o in only.items} == {"a", "c", "d"}
    assert len(run(warehouse, atlas, "320506", top=1).items) == 1


def test_region_without_firms_ranks_nothing(warehouse: Warehouse, atlas: dict[str, Chain]) -> None:
    result = run(warehouse, atlas, "110101")
    assert result.items == [] and result.diversity == 0 and result.eci is None
    assert result.regions_compared == 4
    for lang, words in (("zh", "没有企业"), ("en", "no firm on any chain")):
        console = Console(record=True, width=120)
        console.print(opportunities_table(result, lang))
        assert words in console.export_text()  # the empty table says why


def test_city_level_rolls_up(warehouse: Warehouse, atlas: dict[str, Chain]) -> None:
    result = run(warehouse, atlas, "440100", top=None)
    assert result.region.level == "city"
    assert result.regions_compared == 4  # 梧州, 广州, 苏州, 成都
    assert {o.node_id for o in result.items} <= {"a", "b", "c", "d", "x", "y", None}
