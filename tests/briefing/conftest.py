"""Briefing fixtures: a small warehouse built in code from a seed, diagnosed for 梧州 (450400).

The plan gives every status a node: strong by LQ, strong by a nationally top-ranked local
firm, present, weak, missing, and two breaks (a weak milling node between strong planting and
present refining; a weak trading node between refining and food). Local firms are small, so
only the planted big firm reaches a national top-10 rank.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from chainatlas.atlas import Chain, load_atlas
from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA

SEED = 20240601
LOCAL = ("450403", "450481", "450422")  # 梧州: 万秀区, 岑溪市, 藤县
ELSEWHERE = ("440106", "530102", "450102", "320102", "510104")
NATIONAL_PER_NODE = 40
LOCAL_PLAN: dict[str, int] = {
    "cane_seedling": 30,
    "cane_planting": 30,
    "cane_agri_inputs": 10,
    "cane_machinery": 0,
    "cane_farm_services": 8,
    "sugar_equipment": 4,
    "raw_sugar_milling": 2,
    "refined_sugar": 12,
    "sugar_trade_logistics": 3,
    "sugar_food_beverage": 12,
    "bagasse_pulp_paper": 0,
    "bagasse_tableware": 9,
    "bagasse_power": 10,
    "molasses_ethanol": 0,
    "yeast_extract": 6,
    "filter_mud_fertiliser": 9,
    "cane_top_feed": 3,
    "sugar_testing_rd": 12,
    "cane_insurance": 5,
}
BIG_LOCAL_FIRM_NODE = "cane_top_feed"

SCHEMA = ENTERPRISES_SCHEMA


def seeded_firms(chain: Chain, seed: int = SEED) -> pl.DataFrame:
    rnd = random.Random(seed)
    rows: list[dict[str, object]] = []

    def add(node_id: str, region: str, capital: float) -> None:
        node = chain.node(node_id)
        i = len(rows)
        rows.append(
            {
                "uscc": f"S{i:017d}",
                "name": f"{node.name_zh[:4]}测试企业{i}",
                "region_code": region,
                "industry_code": node.industry_codes[0] if node.industry_codes else None,
                "established": dt.date(2012, 1, 1),
                "deregistered": None,
                "registered_capital": round(capital, 2),
                "revenue": round(capital * rnd.uniform(0.5, 3), 2) if rnd.random() < 0.5 else None,
                "employees": rnd.randint(5, 500),
                "business_scope": "、".join(rnd.sample(node.include, min(2, len(node.include)))),
                "products": None,
                "tags": rnd.choice([None, None, "上市", "高新技术企业", "专精特新"]),
                "synthetic": True,
            }
        )

    for node in chain.nodes:
        for _ in range(NATIONAL_PER_NODE):
            add(node.id, rnd.choice(ELSEWHERE), rnd.lognormvariate(7, 0.5))
        for _ in range(LOCAL_PLAN[node.id]):
            add(node.id, rnd.choice(LOCAL), rnd.lognormvariate(3.5, 0.4))
    add(BIG_LOCAL_FIRM_NODE, LOCAL[0], 5_000_000.0)
    return pl.DataFrame(rows, schema=SCHEMA)


@pytest.fixture(scope="session")
def sugarcane() -> Chain:
    return load_atlas()["sugarcane"]


@pytest.fixture(scope="session")
def diagnosis(tmp_path_factory: pytest.TempPathFactory, sugarcane: Chain) -> Iterator[Diagnosis]:
    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.services.load import load_enterprises

    path: Path = tmp_path_factory.mktemp("briefing") / "warehouse.duckdb"
    wh = Warehouse(path)
    try:
        load_enterprises(wh, seeded_firms(sugarcane), {"sugarcane": sugarcane})
        yield diagnose(wh, sugarcane, "450400")
    finally:
        wh.close()


@pytest.fixture(scope="session")
def real_data_diagnosis(diagnosis: Diagnosis) -> Diagnosis:
    return diagnosis.model_copy(update={"synthetic_data": False})
