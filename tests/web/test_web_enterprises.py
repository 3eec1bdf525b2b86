"""企业 pages: the search form (each filter against direct SQL on the warehouse, paging,
HTMX fragments, the chain → node select), the enterprise page (assignments, partners), a
404 for an unknown code, and hostile input staying inert."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode

import opencc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import OTHER_CHAIN, REGION, SCOPED_CHAIN, client_for

from chainatlas.web.state import AppState

ROW = re.compile(r'<tr>\s*<td><a href="/enterprises/([0-9A-Z]{18})">')


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def sql(app: FastAPI, query: str, params: Sequence[object] = ()) -> list[str]:
    with state_of(app).warehouse.read() as wh:
        return wh.sql(query, list(params))["uscc"].to_list()


def listed(client: TestClient, **params: object) -> tuple[list[str], str]:
    response = client.get("/enterprises?" + urlencode(params))
    assert response.status_code == 200, response.text[:500]
    return ROW.findall(response.text), response.text


ORDER = " ORDER BY registered_capital DESC NULLS LAST, uscc"


def test_each_filter_lists_what_sql_finds(web_app: FastAPI, analyst: TestClient) -> None:
    county = sql(
        web_app,
        "SELECT region_code AS uscc FROM enterprises WHERE city_code = ? "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        [REGION],
    )[0]
    node = sql(
        web_app,
        "SELECT node_id AS uscc FROM chain_firms WHERE chain_id = ? AND city_code = ? "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [SCOPED_CHAIN, REGION],
    )[0]
    cases = [
        ({"q": "科技", "region": ""}, "contains(name, ?)", ["科技"]),
        ({"region": REGION}, "starts_with(region_code, ?)", [REGION[:4]]),
        ({"region": "450000"}, "starts_with(region_code, ?)", ["45"]),
        ({"region": county}, "region_code = ?", [county]),
        (
            {"region": "", "tag": "上市"},
            "list_contains(string_split(tags, ';'), ?)",
            ["上市"],
        ),
        (
            {"region": REGION, "chain": SCOPED_CHAIN, "node": node},
            "starts_with(region_code, ?) AND deregistered IS NULL AND uscc IN "
            "(SELECT uscc FROM assignments WHERE chain_id = ? AND node_id = ?)",
            [REGION[:4], SCOPED_CHAIN, node],
        ),
        (
            {"region": REGION, "chain": SCOPED_CHAIN},
            "starts_with(region_code, ?) AND deregistered IS NULL AND uscc IN "
            "(SELECT uscc FROM assignments WHERE chain_id = ?)",
            [REGION[:4], SCOPED_CHAIN],
        ),
    ]
    everyone = sql(web_app, "SELECT count(*)::VARCHAR AS uscc FROM enterprises")[0]
    for params, where, values in cases:
        expected = sql(web_app, f"SELECT uscc FROM enterprises WHERE {where}" + ORDER, values)
        assert 0 < len(expected) < int(everyone), params
        codes, html = listed(analyst, **params)
        assert codes == expected[:20], params
        assert f"共 {len(expected):,} 家企业" in html, params


def test_paging_keeps_the_filters_and_walks_the_order(
    web_app: FastAPI, analyst: TestClient
) -> None:
    expected = sql(
        web_app, "SELECT uscc FROM enterprises WHERE starts_with(region_code, ?)" + ORDER, ["4504"]
    )
    assert len(expected) > 40
    _, html = listed(analyst, region=REGION, q="梧州")
    assert "q=%E6%A2%A7%E5%B7%9E&amp;region=450400&amp;page=2" in html
    seen: list[str] = []
    pages = -(-len(expected) // 20)
    for page in range(1, pages + 1):
        codes, html = listed(analyst, region=REGION, page=page)
        assert f"第 {page} / {pages} 页" in html
        seen += codes
    assert seen == expected
    assert listed(analyst, region=REGION, page=pages + 1)[0] == []


def test_htmx_gets_only_the_result_table(analyst: TestClient) -> None:
    fragment = analyst.get(
        "/enterprises?region=450400&q=梧州",
        headers={"HX-Request": "true", "HX-Target": "ent-results"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="ent-results"')
    assert "<html" not in fragment.text and ROW.findall(fragment.text)
    full = analyst.get("/enterprises?region=450400&q=梧州")
    assert "<html" in full.text and 'hx-get="/enterprises"' in full.text
    assert 'method="get" action="/enterprises"' in full.text  # works without JavaScript


def test_the_node_select_follows_the_chain(web_app: FastAPI, analyst: TestClient) -> None:
    chain = state_of(web_app).atlas[SCOPED_CHAIN]
    response = analyst.get(f"/enterprises/nodes?chain={SCOPED_CHAIN}")
    options = re.findall(r'<option value="([^"]+)"', response.text)
    assert options == [n.id for n in chain.nodes]
    assert analyst.get("/enterprises/nodes").text.count("<option") == 1
    page = analyst.get(f"/enterprises?chain={SCOPED_CHAIN}&node={chain.nodes[0].id}")
    assert f'<option value="{chain.nodes[0].id}" selected>' in page.text


def test_a_traditional_query_finds_the_simplified_name(
    web_app: FastAPI, analyst: TestClient
) -> None:
    to_traditional = opencc.OpenCC("s2t")
    names = sql(
        web_app, "SELECT name AS uscc FROM enterprises WHERE city_code = ? ORDER BY uscc", [REGION]
    )
    name = next(n for n in names if to_traditional.convert(n[2:4]) != n[2:4])
    simplified, traditional = name[2:4], to_traditional.convert(name[2:4])
    expected = sql(
        web_app, "SELECT uscc FROM enterprises WHERE contains(name, ?)" + ORDER, [simplified]
    )
    assert expected
    assert listed(analyst, q=traditional, region="")[0] == expected[:20]
    assert listed(analyst, q=simplified, region="")[0] == expected[:20]


def test_a_credit_code_finds_its_firm(web_app: FastAPI, analyst: TestClient) -> None:
    code = sql(web_app, "SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1")[0]
    assert listed(analyst, q=code.lower(), region="")[0] == [code]


def test_sql_and_script_in_the_fields_are_inert(web_app: FastAPI, analyst: TestClient) -> None:
    before = sql(web_app, "SELECT count(*)::VARCHAR AS uscc FROM enterprises")
    codes, html = listed(analyst, q="' OR 1=1 --", region="")
    assert codes == [] and "共 0 家企业" in html
    codes, html = listed(analyst, q="<script>alert(1)</script>", region="")
    assert codes == []
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for field in ("region", "chain", "node", "tag"):
        response = analyst.get("/enterprises?" + urlencode({field: "' OR 1=1 --<script>x"}))
        assert response.status_code == 422, field
        assert "<script>x" not in response.text
    assert sql(web_app, "SELECT count(*)::VARCHAR AS uscc FROM enterprises") == before


def test_the_enterprise_page_shows_assignments_and_partners(
    web_app: FastAPI, analyst: TestClient
) -> None:
    # a firm of the region on the scoped chain that has both suppliers and customers
    uscc = sql(
        web_app,
        "SELECT a.uscc FROM assignments a JOIN enterprises e USING (uscc) "
        "WHERE a.chain_id = ? AND e.city_code = ? "
        "AND a.uscc IN (SELECT customer_uscc FROM supply_links) "
        "AND a.uscc IN (SELECT supplier_uscc FROM supply_links) ORDER BY a.uscc LIMIT 1",
        [SCOPED_CHAIN, REGION],
    )[0]
    page = analyst.get(f"/enterprises/{uscc}")
    assert page.status_code == 200
    chain = state_of(web_app).atlas[SCOPED_CHAIN]
    nodes = sql(
        web_app,
        "SELECT node_id AS uscc FROM assignments WHERE uscc = ? AND chain_id = ?",
        [uscc, SCOPED_CHAIN],
    )
    assignments = page.text.split('id="ent-assignments"')[1].split("</table>")[0]
    for node in nodes:
        assert chain.node(node).name_zh in assignments
    suppliers = sql(
        web_app,
        "SELECT DISTINCT supplier_uscc AS uscc FROM supply_links "
        "WHERE customer_uscc = ? AND supplier_uscc <> ?",
        [uscc, uscc],
    )
    customers = sql(
        web_app,
        "SELECT DISTINCT customer_uscc AS uscc FROM supply_links "
        "WHERE supplier_uscc = ? AND customer_uscc <> ?",
        [uscc, uscc],
    )
    for kind, partners in (("suppliers", suppliers), ("customers", customers)):
        table = page.text.split(f'id="ent-{kind}"')[1].split("</table>")[0]
        assert set(re.findall(r'href="/enterprises/([0-9A-Z]{18})"', table)) == set(partners)


def test_an_unknown_code_is_a_404_page(analyst: TestClient) -> None:
    for code in ("91450400MA00000000", "nonsense", "%3Cscript%3E"):
        response = analyst.get(f"/enterprises/{code}")
        assert response.status_code == 404, code
        assert "页面不存在" in response.text


def test_a_scoped_user_searches_only_their_chains(web_app: FastAPI) -> None:
    with client_for(web_app, "chain_office") as office:
        page = office.get("/enterprises")
        chains = re.findall(r'<option value="([a-z_]+)"', page.text.split('name="chain"')[1])
        assert SCOPED_CHAIN in chains and OTHER_CHAIN not in chains
        assert office.get(f"/enterprises?chain={OTHER_CHAIN}").status_code == 403
        assert office.get(f"/enterprises/nodes?chain={OTHER_CHAIN}").status_code == 403
        assert office.get(f"/enterprises?chain={SCOPED_CHAIN}").status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_speaks_the_users_language(web_app: FastAPI, lang: str) -> None:
    with client_for(web_app, "viewer") as client:
        client.get(f"/lang/{lang}")
        page = client.get("/enterprises?region=450400")
        assert ("企业名称" in page.text) == (lang == "zh")
        assert ("Registered capital" in page.text) == (lang == "en")


def test_new_searches_in_a_county_read_its_firms_once(
    web_app: FastAPI, analyst: TestClient
) -> None:
    from chainatlas.web.readmodel import region_rows_cache

    # the second-largest county: no other test of the module searches it
    county = sql(
        web_app,
        "SELECT region_code AS uscc FROM enterprises WHERE city_code = ? "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2",
        [REGION],
    )[1]
    kept = region_rows_cache(state_of(web_app))
    before = kept.computed
    for word in ("科技", "有限", "公司", "梧州", "制造"):
        codes, _ = listed(analyst, q=word, region=county)
        expected = sql(
            web_app,
            "SELECT uscc FROM enterprises WHERE contains(name, ?) AND region_code = ?" + ORDER,
            [word, county],
        )
        assert codes == expected[:20]
    assert kept.computed - before == 1  # the first search read the county's rows
