"""考核 page, analytics columns: per chain the region's completeness at the start and end of
the period, its change and the gaps filled and opened — the numbers the service computes,
weightable (default 0), cached per warehouse version — on the shared demo app (梧州市)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, REGION, login

from chainatlas.accounts.service import add_user, find_user
from chainatlas.engine.history import data_years
from chainatlas.services.kpi_analytics import completeness_changes, period_years
from chainatlas.web.readmodel import region_overview
from chainatlas.web.state import AppState

USER = "kpi_changes_office"
CHAINS = ("sugarcane", "green_home", "tcm_ethnic_medicine", "cold_chain", "new_display")
WIDE = {"start": "2016-01-01", "end": "2026-06-30"}  # end of 2015 → end of 2026
ANALYTICS = ("completeness", "completeness_change", "gaps_filled", "gaps_opened")


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


@pytest.fixture(scope="module")
def office(web_app: FastAPI) -> Iterator[TestClient]:
    """A chain office working on five chains with data in 梧州 (a scoped user's ranking
    lists its chains even without projects or cases)."""
    state = state_of(web_app)
    with state.db.session() as session:
        if find_user(session, USER) is None:
            add_user(
                session,
                state.settings.web,
                USER,
                PASSWORD,
                "chain_office",
                chains=list(CHAINS),
                region_code=REGION,
                actor="test",
            )
    with TestClient(web_app) as client:
        yield login(client, USER)


def expected(app: FastAPI, start: dt.date, end: dt.date) -> pl.DataFrame:
    state = state_of(app)
    with state.warehouse.read() as wh:
        years = period_years(data_years(wh), start, end)
        changes = completeness_changes(wh, state.atlas, REGION, years, state.settings.status)
    return changes.chains.filter(pl.col("chain_id").is_in(CHAINS))


def ranking(html: str) -> str:
    return html.split("产业链排名")[1].split("</table>")[0]


def rows(html: str) -> dict[str, dict[str, str]]:
    """chain id → {column: data-value} of the chain ranking's analytics cells, plus the
    then/now of the span cell and the text shown for the change."""
    out: dict[str, dict[str, str]] = {}
    for chain_id, body in re.findall(r'data-chain="([^"]+)">(.*?)</tr>', ranking(html), re.S):
        cells = dict(re.findall(r'data-col="([^"]+)" data-value="([^"]*)"', body))
        then, now = re.findall(r'data-then="([^"]*)" data-now="([^"]*)"', body)[0]
        shown = re.search(r'data-col="completeness_change" data-value="[^"]*">([^<]*)<', body)
        assert shown is not None
        out[chain_id] = {**cells, "then": then, "now": now, "change_text": shown.group(1)}
    return out


def order(html: str) -> list[tuple[int, str]]:
    """(rank, chain id) as the ranking lists them."""
    found = re.findall(
        r'data-chain="([^"]+)">\s*<td class="num"><span class="wf-rank[^"]*">(\d+)</span>',
        ranking(html),
    )
    return [(int(rank), chain_id) for chain_id, rank in found]


def test_the_page_shows_the_services_changes_per_chain(
    web_app: FastAPI, office: TestClient
) -> None:
    page = office.get("/kpis", params=WIDE)
    assert page.status_code == 200
    html = page.text
    for label in ("链上分析", "当前完整度", "完整度 期初 → 期末", "完整度变化（百分点）"):
        assert label in html
    assert "补上缺口" in html and "新增缺口" in html
    assert "期初为 2015 年末、期末为 2026 年末" in html  # the years compared are named
    shown = rows(html)
    assert set(shown) == set(CHAINS)
    truth = expected(web_app, dt.date(2016, 1, 1), dt.date(2026, 6, 30))
    assert truth["completeness_change"].abs().sum() > 0  # the demo's chains did change
    current = region_overview(state_of(web_app), REGION)
    for row in truth.iter_rows(named=True):
        cells = shown[row["chain_id"]]
        assert float(cells["then"]) == pytest.approx(row["completeness_then"], abs=1e-9)
        assert float(cells["now"]) == pytest.approx(row["completeness_now"], abs=1e-9)
        change = float(cells["completeness_change"])
        assert change == pytest.approx(row["completeness_change"], abs=1e-9)
        value = row["completeness_change"]
        assert cells["change_text"] == ("0.0" if abs(value) < 0.05 else f"{value:+.1f}")
        assert int(cells["gaps_filled"]) == row["gaps_filled"]
        assert int(cells["gaps_opened"]) == row["gaps_opened"]
        # the period ends in the data's latest year: "now" is the diagnosis' completeness
        assert row["completeness_now"] == pytest.approx(
            current[row["chain_id"]].completeness, abs=1e-4
        )
    # the nodes filled and opened are named under the table
    details = html.split('class="wfk-gaps"')[1].split("</ul>")[0]
    sugarcane = state_of(web_app).atlas["sugarcane"]
    filled = truth.filter(pl.col("chain_id") == "sugarcane")["filled_nodes"][0].to_list()
    for node_id in filled:
        assert sugarcane.node(node_id).name_zh in details


def test_a_weight_on_the_change_ranks_the_chains_by_it(
    web_app: FastAPI, office: TestClient
) -> None:
    truth = expected(web_app, dt.date(2016, 1, 1), dt.date(2026, 6, 30))
    by_change = dict(zip(truth["chain_id"], truth["completeness_change"], strict=True))
    # default weights leave the analytics out: without projects or cases all chains tie
    default = order(office.get("/kpis", params=WIDE).text)
    assert {rank for rank, _ in default} == {1}
    weighted = order(office.get("/kpis", params={**WIDE, "w_completeness_change": "1"}).text)
    listed = [chain_id for _, chain_id in weighted]
    assert listed == sorted(CHAINS, key=lambda c: (-round(by_change[c], 6), c))
    ranks = dict((c, r) for r, c in weighted)
    best = max(by_change, key=lambda c: by_change[c])
    worst = min(by_change, key=lambda c: by_change[c])
    assert ranks[best] == 1 and ranks[worst] > 1
    # … and the gaps filled, a weight of their own
    by_filled = dict(zip(truth["chain_id"], truth["gaps_filled"], strict=True))
    filled_first = order(office.get("/kpis", params={**WIDE, "w_gaps_filled": "1"}).text)
    counts = [by_filled[c] for _, c in filled_first]
    assert counts == sorted(counts, reverse=True) and len(set(counts)) > 1
    # a bad weight names the column
    bad = office.get("/kpis", params={**WIDE, "w_completeness_change": "-1"})
    assert bad.status_code == 422 and "完整度变化（百分点）" in bad.text


def test_figures_are_cached_per_version_and_years_and_speak_english(
    web_app: FastAPI, office: TestClient
) -> None:
    state = state_of(web_app)
    office.get("/kpis", params={"start": "2021-01-01", "end": "2025-12-31"})
    cache = state.caches["kpi_cache.completeness_changes"]
    computed = cache.computed
    # another period in the same years: the same figures, not computed again
    again = office.get("/kpis", params={"start": "2021-03-01", "end": "2025-06-30"})
    assert again.status_code == 200 and cache.computed == computed
    assert "期初为 2020 年末、期末为 2025 年末" in again.text
    office.get("/lang/en")
    try:
        english = office.get("/kpis", params=WIDE).text
    finally:
        office.get("/lang/zh")
    for label in ("Chain analytics", "Completeness start → end", "Gaps filled", "Gaps opened"):
        assert label in english
    assert "wfk_" not in english
