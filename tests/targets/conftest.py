"""A hand-made warehouse where the right first target is known.

Region: 万秀区 (450403, 梧州) on the toy chain (a → b → c, d → b). Local firms: L1, L2 (a),
L3, L4 (c), L5 (d). Node b has no local firm: it is `missing`; a is `weak` (成都 holds
thirty a firms, so a's national share is large).

Candidates for b, all outside:
- G1 — 广州天河 (440106), capital 2000, supplies the local lead firm L3 (c): 以商招商; 广州
  is saturated in b (20 of its 20 on-chain firms are b, LQ 58/23 ≈ 2.52) and is in a
  source province (广东); 180 km away. The right first target.
- G2 — 广州天河, capital 100, buys from the local lead firm L1 (a).
- G3 … G20 — 广州天河, capital 100, no partner.
- S1 — 苏州吴中 (320506), capital 1000, 上市, far, no partner.
- X1 — 苏州吴中, capital 5000, 上市: on the exclusion list in the tests that use one.
- C1 — 成都锦江 (510104), capital 10, established half a year before AS_OF (growth).
- D1 — 广州天河, capital 100 000 but deregistered: never a candidate.
Thirty a firms in 成都锦江 make a's national count large (a is `weak` here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA

from chainatlas.atlas import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA
from chainatlas.ingest.validators import make_uscc
from chainatlas.services.load import load_enterprises, load_links

REGION = "450403"
AS_OF = dt.date(2026, 1, 1)
SCOPE = {"a": "甲料生产", "b": "乙件制造", "c": "丙品组装", "d": "丁类服务"}


def code(region: str, seq: int) -> str:
    return make_uscc(region, seq)


def firm_row(
    seq: int,
    region: str,
    node: str,
    capital: float,
    *,
    name: str | None = None,
    tags: str | None = None,
    established: dt.date = dt.date(2015, 1, 1),
    deregistered: dt.date | None = None,
) -> dict[str, object]:
    return {
        "uscc": code(region, seq),
        "name": name or f"测试{node}企业{seq}",
        "region_code": region,
        "industry_code": None,
        "established": established,
        "deregistered": deregistered,
        "registered_capital": capital,
        "revenue": None,
        "employees": 10,
        "business_scope": SCOPE[node],
        "products": None,
        "tags": tags,
        "synthetic": False,
    }


L1, L2, L3, L4, L5 = (code(REGION, i) for i in range(1, 6))
G1, G2 = code("440106", 101), code("440106", 102)
S1, X1 = code("320506", 201), code("320506", 202)
C1 = code("510104", 301)
D1 = code("440106", 401)


def target_firms() -> pl.DataFrame:
    rows = [
        firm_row(1, REGION, "a", 1000, name="梧州甲一"),
        firm_row(2, REGION, "a", 100, name="梧州甲二"),
        firm_row(3, REGION, "c", 500, name="梧州丙一"),
        firm_row(4, REGION, "c", 100, name="梧州丙二"),
        firm_row(5, REGION, "d", 100, name="梧州丁一"),
        firm_row(101, "440106", "b", 2000, name="广州乙一"),
        firm_row(102, "440106", "b", 100, name="广州乙二"),
        *[firm_row(100 + i, "440106", "b", 100) for i in range(3, 21)],
        firm_row(201, "320506", "b", 1000, name="苏州乙上市", tags="上市"),
        firm_row(202, "320506", "b", 5000, name="苏州乙已接触", tags="上市"),
        firm_row(301, "510104", "b", 10, name="成都乙小", established=dt.date(2025, 7, 1)),
        firm_row(
            401, "440106", "b", 100_000, name="广州乙已注销", deregistered=dt.date(2020, 1, 1)
        ),
        *[firm_row(500 + i, "510104", "a", 100) for i in range(30)],
    ]
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


def target_links() -> pl.DataFrame:
    rows = [
        (G1, L3, 50.0, 2024, None),  # G1 sells to the local c firm L3
        (L1, G2, 20.0, 2024, None),  # G2 buys from the local a firm L1
        (D1, L3, 99.0, 2024, None),  # a deregistered supplier: no candidate
    ]
    return pl.DataFrame(rows, schema=SUPPLY_LINKS_SCHEMA, orient="row")


def build_target_warehouse(path: Path, chain: Chain, extra: pl.DataFrame | None = None) -> None:
    firms = target_firms() if extra is None else pl.concat([target_firms(), extra])
    with Warehouse(path) as wh:
        load_enterprises(wh, firms, {"toy": chain})
        load_links(wh, target_links())


@pytest.fixture(scope="module")
def target_wh(tmp_path_factory: pytest.TempPathFactory, toy_chain: Chain) -> Iterator[Warehouse]:
    """Read-only, shared by a module's tests."""
    path = tmp_path_factory.mktemp("targets") / "targets.duckdb"
    build_target_warehouse(path, toy_chain)
    wh = Warehouse(path, read_only=True)
    yield wh
    wh.close()
