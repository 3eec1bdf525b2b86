"""`search_enterprises` and `enterprise_detail` on a hand-made warehouse: every filter
returns exactly the firms a direct SQL query finds, paging covers the ordered matches once,
the count cap holds, traditional input finds simplified names, hostile input is inert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import ENTERPRISE_SCHEMA, firm

from chainatlas.atlas import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA
from chainatlas.services import enterprise_search
from chainatlas.services.enterprise_search import (
    enterprise_detail,
    search_enterprises,
    search_filter,
)
from chainatlas.services.load import load_enterprises, load_links

# (index, region, name, node scope, capital, tags, deregistered)
PLAN = [
    (1, "450403", "梧州发达甲料有限公司", "甲料生产", 1000.0, "上市;高新技术企业", None),
    (2, "450403", "梧州农业乙件有限公司", "乙件制造", 500.0, "专精特新小巨人;专精特新", None),
    (3, "450421", "苍梧丙品组装厂", "丙品组装", 500.0, "专精特新", None),
    (4, "450421", "苍梧发达服务中心", "丁类服务", 80.0, None, None),
    (5, "450103", "南宁甲料科技有限公司", "甲料生产", 300.0, "高新技术企业", None),
    (6, "450103", "南宁注销乙件有限公司", "乙件制造", 9000.0, None, dt.date(2021, 3, 1)),
    (7, "440106", "广州发达乙件有限公司", "乙件制造", 2000.0, "上市", None),
    (8, "440106", "广州丙品有限公司", "丙品组装", None, "专精特新小巨人", None),
    (9, "320506", "苏州甲料有限公司", "甲料生产", 700.0, "专精特新", None),
    (10, "320506", "苏州贸易有限公司", "批发零售", 700.0, None, None),
    (11, "450403", "梧州贸易有限公司", "批发零售", 60.0, None, None),
    (12, "450403", "梧州乙件二厂", "乙件制造", 60.0, None, None),
]


def code(i: int) -> str:
    return f"T{i:017d}"


def firms() -> pl.DataFrame:
    rows = []
    for i, region, name, scope, capital, tags, gone in PLAN:
        row = firm(i, region, f"{scope}；一般项目：技术服务", 0.0, tags=tags, deregistered=gone)
        row.update(name=name, registered_capital=capital)
        rows.append(row)
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


def links() -> pl.DataFrame:
    rows = [
        (code(1), code(2), 120.0, 2023, "甲料"),  # 1 supplies 2
        (code(1), code(2), 30.0, 2024, "甲料"),
        (code(5), code(2), 400.0, 2024, "甲料"),  # 5 supplies 2, largest
        (code(2), code(3), None, 2024, "乙件"),  # 2 supplies 3, no amount
        (code(2), code(7), 50.0, 2022, "乙件"),  # 2 supplies 7
        (code(2), "T99999999999999999", 10.0, 2024, None),  # a partner not in the warehouse
        (code(2), code(2), 5.0, 2024, None),  # a self-link: not a partner
    ]
    return pl.DataFrame(rows, schema=SUPPLY_LINKS_SCHEMA, orient="row")


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory, toy_chain: Chain) -> Iterator[Warehouse]:
    path: Path = tmp_path_factory.mktemp("search") / "search.duckdb"
    with Warehouse(path) as writable:
        load_enterprises(writable, firms(), {"toy": toy_chain})
        load_links(writable, links())
    read = Warehouse(path, read_only=True)
    yield read
    read.close()


def ordered(wh: Warehouse, where: str, params: list[object]) -> list[str]:
    """The reference: matching credit codes, largest capital first, then by code."""
    frame = wh.sql(
        f"SELECT uscc FROM enterprises e WHERE {where} "
        "ORDER BY registered_capital DESC NULLS LAST, uscc",
        params,
    )
    return frame["uscc"].to_list()


def found(wh: Warehouse, **filters: object) -> tuple[list[str], int]:
    rows, total = search_enterprises(wh, page_size=200, **filters)
    return rows["uscc"].to_list(), total


ON_NODE = (
    "e.deregistered IS NULL AND e.uscc IN "
    "(SELECT uscc FROM assignments WHERE chain_id = ? AND node_id = ?)"
)


@pytest.mark.parametrize(
    ("filters", "where", "params"),
    [
        ({}, "TRUE", []),
        ({"q": "发达"}, "e.name LIKE ?", ["%发达%"]),
        ({"region": "450000"}, "starts_with(e.region_code, ?)", ["45"]),
        ({"region": "450400"}, "starts_with(e.region_code, ?)", ["4504"]),
        ({"region": "450421"}, "e.region_code = ?", ["450421"]),
        ({"tag": "上市"}, "e.tags LIKE ?", ["%上市%"]),
        ({"tag": "小巨人"}, "e.uscc IN (?, ?)", [code(2), code(8)]),
        # a tag is a whole `;`-item: 专精特新 does not match firm 8's 专精特新小巨人 alone
        ({"tag": "专精特新"}, "e.uscc IN (?, ?, ?)", [code(2), code(3), code(9)]),
        ({"tag": "高新技术企业"}, "e.tags LIKE ?", ["%高新技术企业%"]),
        ({"chain": "toy", "node": "b"}, ON_NODE, ["toy", "b"]),
        (
            {"chain": "toy"},
            "e.deregistered IS NULL AND e.uscc IN (SELECT uscc FROM assignments "
            "WHERE chain_id = ?)",
            ["toy"],
        ),
        (
            {"chain": "toy", "node": "b", "region": "450000"},
            ON_NODE + " AND starts_with(e.region_code, ?)",
            ["toy", "b", "45"],
        ),
        (
            {"q": "有限公司", "region": "450400", "tag": "上市"},
            "e.name LIKE ? AND starts_with(e.region_code, ?) AND e.tags LIKE ?",
            ["%有限公司%", "4504", "%上市%"],
        ),
        ({"q": code(7)}, "e.uscc = ?", [code(7)]),
    ],
)
def test_each_filter_finds_what_sql_finds(
    wh: Warehouse, filters: dict[str, object], where: str, params: list[object]
) -> None:
    expected = ordered(wh, where, params)
    codes, total = found(wh, **filters)
    assert codes == expected
    assert total == len(expected)


def test_the_fixture_has_something_to_tell_apart(wh: Warehouse) -> None:
    # each filter above must leave some firms out, or the comparison shows nothing
    everyone = len(ordered(wh, "TRUE", []))
    assert everyone == len(PLAN)
    for filters in ({"q": "发达"}, {"region": "450400"}, {"tag": "专精特新"}, {"chain": "toy"}):
        codes, _ = found(wh, **filters)
        assert 0 < len(codes) < everyone, filters
    # the node filter leaves out the deregistered firm assigned to the node
    on_b = wh.sql("SELECT uscc FROM assignments WHERE node_id = 'b'")["uscc"].to_list()
    assert code(6) in on_b and code(6) not in found(wh, chain="toy", node="b")[0]


def test_traditional_input_finds_simplified_names(wh: Warehouse) -> None:
    simplified, _ = found(wh, q="发达")
    assert found(wh, q="發達")[0] == simplified and len(simplified) == 3
    assert found(wh, q="農業")[0] == [code(2)]


def test_a_credit_code_is_matched_whole_in_any_case_and_spacing(wh: Warehouse) -> None:
    assert found(wh, q=code(7))[0] == [code(7)]
    assert found(wh, q=" t0000 0000-0000 00007 ")[0] == [code(7)]
    assert found(wh, q=code(7)[:-1])[0] == []  # a part of a code is a name search


def test_paging_covers_every_match_once_in_order(wh: Warehouse) -> None:
    everyone = ordered(wh, "TRUE", [])
    pages = []
    for page in range(1, 6):
        rows, total = search_enterprises(wh, page=page, page_size=5)
        assert total == len(everyone)
        pages.append(rows["uscc"].to_list())
    assert [len(p) for p in pages] == [5, 5, 2, 0, 0]
    assert [c for p in pages for c in p] == everyone
    rows, _ = search_enterprises(wh, page=1, page_size=5)
    assert rows["registered_capital"].to_list()[:2] == [9000.0, 2000.0]
    assert rows["region_name"][0] == "广西壮族自治区南宁市青秀区"


def test_pages_end_at_the_browsing_limit_while_the_count_stays_exact(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = ordered(wh, "TRUE", [])
    monkeypatch.setattr(enterprise_search, "MAX_BROWSABLE", 7)
    first, total = search_enterprises(wh, page=1, page_size=4)
    second, again = search_enterprises(wh, page=2, page_size=4)  # rows 5 … 7 only
    past, beyond = search_enterprises(wh, page=3, page_size=4)
    assert total == again == beyond == len(everyone) == 12
    assert first["uscc"].to_list() + second["uscc"].to_list() == everyone[:7]
    assert past.height == 0
    chain_rows, chain_total = search_enterprises(wh, chain="toy", page=2, page_size=4)
    on_chain = ordered(
        wh,
        "e.deregistered IS NULL AND e.uscc IN (SELECT uscc FROM assignments)",
        [],
    )
    assert chain_total == len(on_chain) > 7
    assert chain_rows["uscc"].to_list() == on_chain[4:7]


def test_hostile_input_is_a_value_not_sql(wh: Warehouse) -> None:
    rows_before = wh.count("enterprises")
    for text in ("' OR 1=1 --", '"; DROP TABLE enterprises; --', "%", "_", "<script>"):
        assert found(wh, q=text) == ([], 0), text
    with pytest.raises(UserError, match="地区"):
        search_enterprises(wh, region="450403' OR '1'='1")
    with pytest.raises(UserError, match="标签"):
        search_enterprises(wh, tag="上市' OR 1=1 --")
    assert found(wh, chain="toy' OR 1=1 --") == ([], 0)
    assert wh.count("enterprises") == rows_before
    where = search_filter(q="' OR 1=1 --", region="450400")
    assert "OR 1=1" not in " ".join(where.clauses)
    assert "' OR 1=1 --" in where.params


def test_form_errors_name_the_field(wh: Warehouse) -> None:
    with pytest.raises(UserError, match="环节") as node:
        search_enterprises(wh, node="b")
    assert "'node'" in node.value.message_en
    with pytest.raises(UserError, match="页码"):
        search_enterprises(wh, page=0)
    with pytest.raises(UserError, match="关键词"):
        search_enterprises(wh, q="长" * 101)


def test_enterprise_detail_shows_assignments_partners_and_tags(wh: Warehouse) -> None:
    detail = enterprise_detail(wh, code(2))
    assert detail is not None
    assert detail.firm["name"] == "梧州农业乙件有限公司"
    assert detail.tags == ["专精特新小巨人", "专精特新"]
    assert detail.region_name == "广西壮族自治区梧州市万秀区"
    assert detail.assignments.select("chain_id", "node_id").rows() == [("toy", "b")]
    assert detail.assignments["score"][0] > 0
    # suppliers: largest amount first; the two links of firm 1 add up
    suppliers = detail.suppliers.select("uscc", "links", "amount", "first_year", "last_year")
    assert suppliers.rows() == [(code(5), 1, 400.0, 2024, 2024), (code(1), 2, 150.0, 2023, 2024)]
    assert detail.suppliers["region_name"].to_list() == [
        "广西壮族自治区南宁市青秀区",
        "广西壮族自治区梧州市万秀区",
    ]
    customers = detail.customers
    assert customers["uscc"].to_list() == [code(7), "T99999999999999999", code(3)]
    assert customers["name"].to_list() == ["广州发达乙件有限公司", None, "苍梧丙品组装厂"]
    assert (detail.supplier_count, detail.customer_count) == (2, 3)
    # the self-link is not a partner
    assert code(2) not in customers["uscc"].to_list() + suppliers["uscc"].to_list()


def test_an_unknown_or_malformed_code_has_no_detail(wh: Warehouse) -> None:
    assert enterprise_detail(wh, "T99999999999999999") is None
    assert enterprise_detail(wh, "' OR 1=1 --") is None
    detail = enterprise_detail(wh, code(10).lower())
    assert detail is not None and detail.assignments.height == 0
    assert detail.suppliers.height == 0 and detail.customer_count == 0


def test_search_reads_the_region_sorted_copy_and_falls_back(
    wh: Warehouse, tmp_path: Path, toy_chain: Chain
) -> None:
    """`firm_search` holds every firm (deregistered too) sorted by region; a warehouse built
    before it answers the same from `enterprises`."""
    copy = wh.sql("SELECT uscc, province_code, city_code, region_code FROM firm_search")
    assert sorted(copy["uscc"].to_list()) == sorted(wh.sql("SELECT uscc FROM enterprises")["uscc"])
    keys = copy.select("province_code", "city_code", "region_code", "uscc").rows()
    assert keys == sorted(keys, key=lambda k: tuple("" if v is None else v for v in k))
    path = tmp_path / "old.duckdb"
    with Warehouse(path) as old:
        load_enterprises(old, firms(), {"toy": toy_chain})
        old.raw.execute("DROP TABLE firm_search")
    with Warehouse(path, read_only=True) as old:
        for filters in ({"q": "发达"}, {"region": "450400"}, {"tag": "上市"}):
            assert found(old, **filters) == found(wh, **filters)


def test_a_region_kept_in_memory_answers_as_the_warehouse_does(wh: Warehouse) -> None:
    kept: dict[str, pl.DataFrame] = {}
    reads: list[str] = []

    def region_rows(region: str, read: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        if region not in kept:
            reads.append(region)
            kept[region] = read()
        return kept[region]

    compared = 0
    for region in ("450400", "450403", "450421", "440100", "320506", "450100"):
        for q in (None, "发达", "有限", "發達", code(2), code(7), "无此名"):
            for tag in (None, "专精特新", "上市", "小巨人"):
                for page, size in ((1, 200), (1, 1), (2, 1), (3, 2)):
                    filters = {"q": q, "region": region, "tag": tag, "page": page}
                    scanned = search_enterprises(wh, page_size=size, **filters)
                    kept_rows = search_enterprises(
                        wh,
                        page_size=size,
                        region_rows=region_rows,
                        **filters,
                    )
                    assert kept_rows[1] == scanned[1], filters
                    assert kept_rows[0].equals(scanned[0]), filters
                    compared += scanned[0].height
    assert compared > 100  # the comparison saw rows, not only empty pages
    assert sorted(reads) == ["320506", "440100", "450100", "450400", "450403", "450421"]
    # a province or a chain filter is not a region kept in memory
    search_enterprises(wh, region="450000", region_rows=region_rows)
    search_enterprises(wh, region="450400", chain="toy", region_rows=region_rows)
    assert len(reads) == 6
