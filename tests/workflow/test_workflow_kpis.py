"""KPIs and the weighted ranking, checked against numbers worked by hand; then the same from
the app database (SQLite and PostgreSQL), per chain and per member unit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor
from chainatlas.workflow.assessment import chain_ranking, kpi_inputs, unit_ranking
from chainatlas.workflow.kpis import CASE_SCHEMA, PROJECT_SCHEMA, kpi_table, weighted_scores
from chainatlas.workflow.models import Case, Project

START, END = date(2025, 4, 1), date(2025, 6, 30)
D = date
# (id, chain, unit, stage, amount, signed, started, in production)
PROJECTS = [
    (1, "toy", 1, "started", 10000.0, D(2025, 4, 10), D(2025, 6, 1), None),
    (2, "toy", 2, "started", 5000.0, D(2025, 3, 15), D(2025, 5, 1), None),  # signed before
    (3, "toy", 1, "in_production", 3000.0, D(2025, 5, 20), D(2025, 6, 10), D(2025, 6, 30)),
    (4, "toy", None, "lead", None, None, None, None),
    (5, "toy", 1, "signed", 999.0, D(2025, 7, 1), None, None),  # signed after
    (6, "other", 2, "signed", 20000.0, D(2025, 4, 1), None, None),  # the first day counts
]
# (id, chain, unit, state, raised, deadline, resolved)
CASES = [
    (1, "toy", 1, "confirmed", D(2025, 4, 1), D(2025, 4, 15), D(2025, 4, 10)),  # on time, 9 d
    (2, "toy", 2, "resolved", D(2025, 4, 5), D(2025, 4, 20), D(2025, 4, 25)),  # late, 20 d
    (3, "toy", 1, "in_progress", D(2025, 5, 1), D(2025, 5, 10), None),  # overdue at the end
    (4, "toy", 2, "open", D(2025, 6, 1), D(2025, 7, 15), None),  # not due yet
    (5, "toy", 1, "resolved", D(2025, 3, 1), D(2025, 3, 20), D(2025, 3, 15)),  # before
    (6, "other", 2, "resolved", D(2025, 6, 1), D(2025, 6, 10), D(2025, 7, 2)),  # late after end
    (7, "other", 2, "resolved", D(2025, 4, 1), D(2025, 6, 30), D(2025, 6, 30)),  # on time, 90 d
]


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    return (
        pl.DataFrame(PROJECTS, schema=PROJECT_SCHEMA, orient="row"),
        pl.DataFrame(CASES, schema=CASE_SCHEMA, orient="row"),
    )


def test_kpis_per_chain_by_hand() -> None:
    projects, cases = _frames()
    table = kpi_table(projects, cases, by="chain_id", start=START, end=END, keys=["third"])
    rows = {r["chain_id"]: r for r in table.iter_rows(named=True)}
    toy, other, third = rows["toy"], rows["other"], rows["third"]
    assert (toy["projects_signed"], toy["amount_signed_wan"]) == (2, 13000.0)
    assert (toy["projects_started"], toy["amount_started_wan"]) == (3, 18000.0)
    assert (toy["projects_in_production"], toy["amount_in_production_wan"]) == (1, 3000.0)
    assert (toy["cases_resolved"], toy["cases_on_time"], toy["on_time_rate"]) == (2, 1, 0.5)
    assert toy["avg_days_to_resolve"] == pytest.approx(14.5)
    assert toy["cases_overdue"] == 1
    assert (other["projects_signed"], other["amount_signed_wan"], other["projects_started"]) == (
        1,
        20000.0,
        0,
    )
    assert (other["cases_resolved"], other["on_time_rate"], other["avg_days_to_resolve"]) == (
        1,
        1.0,
        90.0,
    )
    assert other["cases_overdue"] == 1  # resolved only after the period ended
    assert third["projects_signed"] == 0 and third["cases_resolved"] == 0
    assert third["on_time_rate"] is None and third["avg_days_to_resolve"] is None


def test_kpis_per_unit_by_hand() -> None:
    projects, cases = _frames()
    table = kpi_table(projects, cases, by="unit_id", start=START, end=END)
    rows = {r["unit_id"]: r for r in table.iter_rows(named=True)}
    assert set(rows) == {1, 2}  # project 4 has no unit
    assert (rows[1]["projects_signed"], rows[1]["amount_signed_wan"]) == (2, 13000.0)
    assert (rows[2]["projects_signed"], rows[2]["projects_started"]) == (1, 1)
    assert (rows[1]["cases_resolved"], rows[1]["on_time_rate"], rows[1]["cases_overdue"]) == (
        1,
        1.0,
        1,
    )
    assert rows[2]["cases_resolved"] == 2 and rows[2]["on_time_rate"] == 0.5
    assert rows[2]["avg_days_to_resolve"] == pytest.approx((20 + 90) / 2)


def test_weighted_score_and_rank_by_hand() -> None:
    projects, cases = _frames()
    table = kpi_table(projects, cases, by="chain_id", start=START, end=END, keys=["third"])
    weights = {"projects_signed": 2, "on_time_rate": 1, "avg_days_to_resolve": 1}
    ranked = weighted_scores(table, weights, key="chain_id")
    # projects_signed 2 / 1 / 0 → 1, 0.5, 0; on-time 0.5 / 1.0 / none → 0, 1, 0;
    # days 14.5 / 90 / none (lower is better) → 1, 0, 0; score = 100·(2a + b + c) / 4
    assert ranked.select("chain_id", "score", "rank").rows() == [
        ("toy", 75.0, 1),
        ("other", 50.0, 2),
        ("third", 0.0, 3),
    ]
    assert ranked.filter(pl.col("chain_id") == "other")["score_projects_signed"].item() == 0.5
    tied = weighted_scores(
        table.filter(pl.col("chain_id") != "third"), {"cases_overdue": 1}, key="chain_id"
    )
    assert tied.select("chain_id", "score", "rank").rows() == [
        ("other", 100.0, 1),
        ("toy", 100.0, 1),
    ]
    with pytest.raises(UserError, match="未知考核指标「luck」"):
        weighted_scores(table, {"luck": 1}, key="chain_id")
    with pytest.raises(UserError, match="权重不能为负"):
        weighted_scores(table, {"projects_signed": -1}, key="chain_id")
    with pytest.raises(UserError, match="至少一个指标"):
        weighted_scores(table, {"projects_signed": 0}, key="chain_id")
    with pytest.raises(UserError, match="统计期结束日"):
        kpi_table(projects, cases, by="chain_id", start=END, end=START)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(len(PROJECTS)))), st.permutations(list(range(len(CASES)))))
def test_ranking_does_not_depend_on_row_order(p_order: list[int], c_order: list[int]) -> None:
    projects, cases = _frames()
    weights = {"projects_signed": 3, "amount_signed_wan": 1, "on_time_rate": 2, "cases_overdue": 1}
    expected = weighted_scores(
        kpi_table(projects, cases, by="chain_id", start=START, end=END), weights, key="chain_id"
    )
    shuffled = weighted_scores(
        kpi_table(projects[p_order], cases[c_order], by="chain_id", start=START, end=END),
        weights,
        key="chain_id",
    )
    assert_frame_equal(shuffled, expected)


def test_rankings_from_the_database(db: Database, organisation) -> None:
    unit = {1: organisation.land, 2: organisation.commerce, None: None}
    with db.session() as s:
        for pid, chain, u, stage, amount, signed, started, production in PROJECTS:
            s.add(
                Project(
                    name=f"项目{pid}",
                    investor_name="甲",
                    chain_id=chain,
                    unit_id=unit[u],
                    stage=stage,
                    amount_wan=amount,
                    signed_on=signed,
                    started_on=started,
                    production_on=production,
                )
            )
        for cid, chain, u, state, raised, deadline, resolved in CASES:
            # resolved at 20:00 UTC the day before = 04:00 China time on the resolution day
            at = (
                None
                if resolved is None
                else datetime.combine(resolved, time()) - timedelta(hours=4)
            )
            s.add(
                Case(
                    title=f"诉求{cid}",
                    source="enterprise",
                    category="land",
                    chain_id=chain,
                    unit_id=unit[u],
                    state=state,
                    raised_on=raised,
                    deadline=deadline,
                    resolved_at=at,
                )
            )
    with db.session() as s:
        _, cases = kpi_inputs(s, Actor.system())
        assert cases.sort("case_id")["resolved_on"].to_list() == [c[6] for c in CASES]
        ranked = chain_ranking(
            s,
            Actor.system(),
            start=START,
            end=END,
            weights={"projects_signed": 2, "on_time_rate": 1, "avg_days_to_resolve": 1},
            chain_ids=["toy", "other", "third"],
        )
        assert ranked.select("chain_id", "score", "rank").rows() == [
            ("toy", 75.0, 1),
            ("other", 50.0, 2),
            ("third", 0.0, 3),
        ]
        # the chain office of toy sees only its chain
        office = organisation.actor(s, "office")
        mine = chain_ranking(s, office, start=START, end=END)
        assert mine["chain_id"].to_list() == ["toy"]
        units = unit_ranking(
            s, Actor.system(), start=START, end=END, weights={"projects_signed": 1}
        )
        assert units.select("unit_name", "projects_signed", "score", "rank").rows() == [
            ("自然资源局", 2, 100.0, 1),
            ("商务局", 1, 0.0, 2),  # min–max: the lowest scores 0
        ]
        toy_units = unit_ranking(s, Actor.system(), start=START, end=END, chain_id="toy")
        assert set(toy_units["unit_name"]) == {"自然资源局", "商务局"}  # not the chain office
        assert toy_units.filter(pl.col("unit_name") == "商务局")["projects_signed"].item() == 0
