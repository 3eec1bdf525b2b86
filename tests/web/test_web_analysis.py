"""The analysis pages (首页, 产业链图谱, 诊断) and the read cache under them: figures equal a
direct diagnosis of the same warehouse, scoped roles see only their chain, exports parse,
the region switch changes the figures, the cache computes once per key and version."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import OTHER_CHAIN, REGION, SCOPED_CHAIN, client_for

from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.web import readmodel
from chainatlas.web.state import AppState

PROVINCE = "450000"  # 广西, the demo city's province
COUNTY = "450403"  # 万秀区, a county of the demo city


class _Tags(HTMLParser):
    """Start tags with their attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str, tag: str, attr: str) -> list[dict[str, str]]:
    parser = _Tags()
    parser.feed(html)
    return [a for t, a in parser.tags if t == tag and attr in a]


def embedded_json(html: str, element_id: str) -> Any:
    found = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S
    )
    assert found, f"no JSON {element_id}"
    return json.loads(found.group(1))


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def direct(app: FastAPI, chain_id: str, region: str) -> Diagnosis:
    """diagnose() on the app's warehouse, bypassing every cache."""
    state = state_of(app)
    with state.warehouse.read() as wh:
        return diagnose(
            wh, state.atlas[chain_id], region, state.settings.status, state.settings.lead_firm
        )


@pytest.fixture()
def chain_office(web_app: FastAPI) -> Iterator[TestClient]:
    with client_for(web_app, "chain_office") as client:
        yield client


# --- dashboard ----------------------------------------------------------------------------
def test_dashboard_counts_equal_a_direct_diagnosis(analyst: TestClient, web_app: FastAPI) -> None:
    page = analyst.get(f"/?region={REGION}")
    assert page.status_code == 200
    rows = {r["data-chain"]: r for r in tags(page.text, "tr", "data-completeness")}
    assert set(rows) == set(state_of(web_app).atlas)  # the analyst sees every chain
    for chain_id in ("sugarcane", "green_home", "tcm_ethnic_medicine", OTHER_CHAIN):
        d = direct(web_app, chain_id, REGION)
        row = rows[chain_id]
        for status in ("missing", "weak", "present", "strong", "break"):
            assert int(row[f"data-{status}"]) == d.status_counts[status], (chain_id, status)
        assert int(row["data-firms"]) == d.firm_count
        assert float(row["data-completeness"]) == pytest.approx(d.completeness, abs=1e-4)
    # the gaps named for a chain are missing, weak or break nodes of its diagnosis
    d = direct(web_app, "sugarcane", REGION)
    status = {n.id: (n.status, n.is_break) for n in d.nodes}
    gap_links = re.findall(r"/atlas\?chain=sugarcane&amp;node=([a-z_0-9]+)&amp;", page.text)
    assert gap_links
    for node_id in gap_links:
        node_status, is_break = status[node_id]
        assert node_status in ("missing", "weak") or is_break
    # recent changes state their source
    assert "来源：企业登记的成立与注销日期" in page.text
    births = {r["data-chain"]: int(r["data-births"]) for r in tags(page.text, "tr", "data-births")}
    assert sum(births.values()) > 0


def test_recent_changes_count_the_births_of_the_last_data_year(web_app: FastAPI) -> None:
    state = state_of(web_app)
    changes = readmodel.recent_changes(state, REGION)
    assert changes is not None
    with state.warehouse.read() as wh:
        counted = wh.sql(
            "SELECT count(DISTINCT e.uscc) AS n FROM enterprises e JOIN assignments a USING (uscc) "
            "WHERE a.chain_id = 'sugarcane' AND e.city_code = ? AND year(e.established) = ?",
            [REGION, changes.year],
        )["n"].item()
    assert changes.chains["sugarcane"].births == counted


# --- scoped roles -------------------------------------------------------------------------
def test_a_scoped_role_sees_only_its_chain(analyst: TestClient, chain_office: TestClient) -> None:
    # the analyst's dashboard (every chain) is drawn first: the cached page body must not
    # leak to a user who sees fewer chains
    assert len(tags(analyst.get(f"/?region={REGION}").text, "tr", "data-completeness")) > 1
    page = chain_office.get(f"/?region={REGION}")
    assert [r["data-chain"] for r in tags(page.text, "tr", "data-completeness")] == [SCOPED_CHAIN]
    assert chain_office.get(f"/diagnosis?chain={SCOPED_CHAIN}").status_code == 200
    # without a chain the page shows one the user may see
    assert f'value="{SCOPED_CHAIN}" selected' in chain_office.get("/diagnosis").text
    for path in (
        f"/diagnosis?chain={OTHER_CHAIN}",
        f"/diagnosis/export?chain={OTHER_CHAIN}&format=json",
        f"/atlas?chain={OTHER_CHAIN}",
        f"/atlas/node?chain={OTHER_CHAIN}&node=battery_pack",
    ):
        assert chain_office.get(path).status_code == 403, path


# --- atlas --------------------------------------------------------------------------------
def test_atlas_graph_carries_the_statuses_of_the_diagnosis(
    analyst: TestClient, web_app: FastAPI
) -> None:
    page = analyst.get(f"/atlas?chain=sugarcane&region={REGION}")
    assert page.status_code == 200
    graph = embedded_json(page.text, "chain-graph-data")
    d = direct(web_app, "sugarcane", REGION)
    assert {n["id"]: (n["status"], n["break"], n["firms"]) for n in graph["nodes"]} == {
        n.id: (n.status, n.is_break, n.firm_count) for n in d.nodes
    }
    chain = state_of(web_app).atlas["sugarcane"]
    assert sorted((e["source"], e["target"], e["recycling"]) for e in graph["edges"]) == sorted(
        (e.supplier, e.customer, e.recycling) for e in chain.edges
    )
    assert any(e["recycling"] for e in graph["edges"])  # the molasses loop is drawn apart
    # laid out by stage: every upstream node sits above every downstream one
    top = {n["id"]: n["y"] for n in graph["nodes"]}
    stage = {n.id: n.stage for n in chain.nodes}
    ups = [top[i] for i, s in stage.items() if s == "upstream"]
    downs = [top[i] for i, s in stage.items() if s == "downstream"]
    assert max(ups) < min(downs)
    assert 'class="print-only chain-map-print"><svg' in page.text  # prints as static SVG


def test_node_panel_lists_the_firms_on_the_node(analyst: TestClient, web_app: FastAPI) -> None:
    d = direct(web_app, "sugarcane", REGION)
    node = max(d.nodes, key=lambda n: n.firm_count)
    assert node.firm_count > 0
    panel = analyst.get(
        f"/atlas/node?chain=sugarcane&node={node.id}&region={REGION}",
        headers={"HX-Request": "true"},
    )
    assert panel.status_code == 200
    assert "<html" not in panel.text  # a fragment for htmx
    listed = [r["data-uscc"] for r in tags(panel.text, "tr", "data-uscc")]
    assert listed
    state = state_of(web_app)
    with state.warehouse.read() as wh:
        on_node = wh.sql(
            "SELECT e.uscc, e.registered_capital FROM assignments a JOIN enterprises e USING (uscc) "
            "WHERE a.chain_id = 'sugarcane' AND a.node_id = ? AND e.city_code = ? "
            "AND e.deregistered IS NULL ORDER BY e.registered_capital DESC NULLS LAST, e.uscc",
            [node.id, REGION],
        )
    assert set(listed) <= set(on_node["uscc"].to_list())
    assert len(listed) == min(readmodel.NODE_FIRMS, on_node.height)
    assert listed[0] == on_node["uscc"][0]  # the largest first
    count = tags(panel.text, "div", "data-firm-count")[0]["data-firm-count"]
    assert int(count) == on_node.height == node.firm_count
    for lead in node.lead_firms:
        assert f"/enterprises/{lead.uscc}" in panel.text
    assert embedded_json(panel.text, f"trend-data-{node.id}")["active"][-1] == node.firm_count
    # the same panel inline for a deep link
    assert f'data-node="{node.id}"' in analyst.get(f"/atlas?chain=sugarcane&node={node.id}").text
    bad = analyst.get(f"/atlas/node?chain=sugarcane&node=no_such_node&region={REGION}")
    assert bad.status_code == 422 and "no_such_node" in bad.text


# --- diagnosis ----------------------------------------------------------------------------
def test_diagnosis_page_shows_what_the_cli_prints(analyst: TestClient, web_app: FastAPI) -> None:
    page = analyst.get(f"/diagnosis?chain=tcm_ethnic_medicine&region={REGION}")
    assert page.status_code == 200
    d = direct(web_app, "tcm_ethnic_medicine", REGION)
    rows = {r["data-node"]: r for r in tags(page.text, "tr", "data-status")}
    assert {k: (r["data-status"], r["data-break"] == "true") for k, r in rows.items()} == {
        n.id: (n.status, n.is_break) for n in d.nodes
    }
    tiles = {t["data-status"]: int(t["data-count"]) for t in tags(page.text, "div", "data-count")}
    assert tiles == d.status_counts
    leads = {r["data-uscc"] for r in tags(page.text, "tr", "data-uscc")}
    assert leads == {f.uscc for n in d.nodes for f in n.lead_firms}
    kinds = [r["data-kind"] for r in tags(page.text, "tr", "data-kind")]
    assert kinds == [a.kind for a in d.actions]
    china = embedded_json(page.text, "china-map-data")
    assert china["selected"] == PROVINCE
    assert sum(i["value"] for i in china["items"]) == d.national_firm_count
    assert embedded_json(page.text, "chain-graph-data")["chain"] == "tcm_ethnic_medicine"


def test_diagnosis_exports_parse(analyst: TestClient, web_app: FastAPI) -> None:
    base = f"/diagnosis/export?chain=sugarcane&region={REGION}"
    d = direct(web_app, "sugarcane", REGION)
    as_json = analyst.get(base + "&format=json")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert "attachment" in as_json.headers["content-disposition"]
    assert json.loads(as_json.text) == json.loads(d.to_json())
    as_xlsx = analyst.get(base + "&format=xlsx")
    assert as_xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert len(book.sheetnames) >= 2
    as_html = analyst.get(base + "&format=html")
    assert as_html.status_code == 200 and as_html.text.lstrip().lower().startswith("<!doctype html")
    assert d.region.full_name in as_html.text
    bad = analyst.get(base + "&format=pdf", headers={"Accept": "application/json"})
    assert bad.status_code == 422 and "format" in bad.json()["message_en"]


# --- region switch, errors, language --------------------------------------------------------
def test_switching_the_region_changes_the_figures(analyst: TestClient, web_app: FastAPI) -> None:
    def firms(page: str) -> int:
        row = next(
            r for r in tags(page, "tr", "data-completeness") if r["data-chain"] == "sugarcane"
        )
        return int(row["data-firms"])

    city = firms(analyst.get(f"/?region={REGION}").text)
    province_page = analyst.get(f"/?region={PROVINCE}").text
    province = firms(province_page)
    assert province == direct(web_app, "sugarcane", PROVINCE).firm_count
    assert province > city
    # remembered: the next page without ?region= shows the province
    remembered = analyst.get("/").text
    assert firms(remembered) == province
    assert f'class="region-chip" title="{PROVINCE}"' in remembered
    county = analyst.get(f"/diagnosis?chain=sugarcane&region={COUNTY}").text
    summary = tags(county, "section", "data-firms")[0]
    assert int(summary["data-firms"]) == direct(web_app, "sugarcane", COUNTY).firm_count
    # the picker lists the chosen city's counties
    assert f'<option value="{COUNTY}" selected>' in county
    analyst.get(f"/?region={REGION}")  # leave the session on the demo city


def test_region_options_cascade(analyst: TestClient) -> None:
    provinces = analyst.get("/regions/options").json()
    assert len(provinces) == 34 and PROVINCE in {p["code"] for p in provinces}
    cities = analyst.get(f"/regions/options?parent={PROVINCE}").json()
    assert REGION in {c["code"] for c in cities}
    counties = analyst.get(f"/regions/options?parent={REGION}").json()
    assert COUNTY in {c["code"] for c in counties}
    assert all(c["level"] == "county" for c in counties)
    assert analyst.get("/regions/options?parent=123").status_code == 422


def test_unknown_chain_or_region_is_a_422_in_both_languages(analyst: TestClient) -> None:
    for path in ("/diagnosis?chain=no_such_chain", "/atlas?chain=no_such_chain"):
        page = analyst.get(path)
        assert page.status_code == 422 and "没有产业链 no_such_chain" in page.text
        as_json = analyst.get(path, headers={"Accept": "application/json"}).json()
        assert "no_such_chain" in as_json["message_en"] and as_json["message_zh"]
    for path in ("/?region=999999", "/diagnosis?chain=sugarcane&region=12"):
        page = analyst.get(path)
        assert page.status_code == 422 and "未知的行政区划代码" in page.text


def test_pages_speak_english_when_asked(web_app: FastAPI) -> None:
    with client_for(web_app, "viewer") as client:
        assert "产业链概览" in client.get(f"/?region={REGION}").text
        client.get("/lang/en")
        home = client.get(f"/?region={REGION}").text
        assert "Chains at a glance" in home and "Missing" in home
        diagnosis = client.get(f"/diagnosis?chain=sugarcane&region={REGION}").text
        assert "Node diagnosis" in diagnosis and "Sugarcane" in diagnosis
        graph = embedded_json(diagnosis, "chain-graph-data")
        assert graph["labels"]["status_missing"] == "Missing"
        assert all(not re.search(r"[\u4e00-\u9fff]", n["name"]) for n in graph["nodes"])


# --- the read cache -----------------------------------------------------------------------
def test_the_cache_returns_the_same_object_until_the_warehouse_changes(web_app: FastAPI) -> None:
    with TestClient(web_app):
        state = state_of(web_app)
        first = readmodel.region_diagnosis(state, "green_home", REGION)
        assert readmodel.region_diagnosis(state, "green_home", REGION) is first
        level = readmodel.level_diagnosis(state, "city")
        assert readmodel.level_diagnosis(state, "city") is level
        overview = readmodel.region_overview(state, REGION)
        assert readmodel.region_overview(state, REGION) is overview
        before = state.warehouse.version
        with state.warehouse.write():
            pass  # a (no-op) load: the version moves on
        with state.warehouse.read():
            assert state.warehouse.version != before
        again = readmodel.region_diagnosis(state, "green_home", REGION)
        assert again is not first and again == first
        assert readmodel.level_diagnosis(state, "city") is not level
        assert readmodel.region_overview(state, REGION) is not overview


def test_concurrent_requests_for_one_key_compute_once(web_app: FastAPI) -> None:
    with TestClient(web_app):
        state = state_of(web_app)
        with state.warehouse.write():
            pass  # a fresh version: nothing cached yet
        cache = readmodel._cache(state, "region_diagnosis", 128)
        computed = cache.computed
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(
                    lambda _: readmodel.region_diagnosis(state, "sugarcane", COUNTY), range(16)
                )
            )
        assert cache.computed == computed + 1
        assert all(r is results[0] for r in results)


def test_versioned_lru_waits_evicts_and_does_not_keep_errors() -> None:
    cache: readmodel.VersionedLRU[int] = readmodel.VersionedLRU(maxsize=2)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> int:
        calls.append("slow")
        started.set()
        release.wait(5)
        return 42

    with ThreadPoolExecutor(max_workers=4) as pool:
        owner = pool.submit(cache.get, "v1", "k", slow)
        started.wait(5)
        waiters = [pool.submit(cache.get, "v1", "k", lambda: -1) for _ in range(3)]
        release.set()
        assert owner.result() == 42 and [w.result() for w in waiters] == [42, 42, 42]
    assert calls == ["slow"]
    cache.get("v1", "a", lambda: 1)
    cache.get("v1", "b", lambda: 2)  # evicts "k", the least recently used
    assert cache.get("v1", "k", lambda: 7) == 7
    assert cache.get("v2", "a", lambda: 10) == 10 and len(cache) == 1  # v1 dropped

    def fail() -> int:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get("v2", "x", fail)
    assert cache.get("v2", "x", lambda: 5) == 5
