"""Duty scores (pure): points per item kind, caps per kind and on the total, deductions,
ranks — against numbers worked out by hand; rules as a person enters them."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.cppcc.scoring import (
    DEFAULT_RULES,
    ITEM_NAMES,
    SCORE_ITEM_SCHEMA,
    ItemRule,
    ScoringRules,
    check_rules,
    duty_scores,
)
from chainatlas.cppcc.vocabulary import DutyKind
from chainatlas.errors import UserError

RULES = ScoringRules(
    items={
        "visit": ItemRule(2, 6),
        "proposal": ItemRule(5),
        "attended": ItemRule(1),
        "absent": ItemRule(-3, 5),
    },
    total_cap=20,
)


def _items(rows: list[tuple[int, str, date]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCORE_ITEM_SCHEMA, orient="row")


def _hand_worked() -> pl.DataFrame:
    d = date(2025, 3, 1)
    return _items(
        [
            # member 1: 4 visits in 2025 (8 points, capped at 6) and one in 2024 (not counted),
            # a proposal (5), two meetings attended (2), two absences (−6, capped at −5),
            # research (no rule: not scored)  → 6 + 5 + 2 − 5 = 8
            (1, "visit", date(2025, 1, 5)),
            (1, "visit", date(2025, 2, 1)),
            (1, "visit", d),
            (1, "visit", date(2025, 12, 31)),
            (1, "visit", date(2024, 12, 31)),
            (1, "proposal", d),
            (1, "attended", d),
            (1, "attended", d),
            (1, "absent", d),
            (1, "absent", d),
            (1, "research", d),
            # member 2: four proposals (20) and three meetings (3): 23, capped at 20
            *[(2, "proposal", d)] * 4,
            *[(2, "attended", d)] * 3,
            # member 3: one absence → −3
            (3, "absent", d),
            # member 5: a visit, a proposal, a meeting → 2 + 5 + 1 = 8 (ties member 1)
            (5, "visit", d),
            (5, "proposal", d),
            (5, "attended", date(2025, 1, 1)),
        ]
    )


def test_hand_worked_scores() -> None:
    table = duty_scores(_hand_worked(), RULES, year=2025, members=[1, 2, 3, 4])
    rows = {r["member_id"]: r for r in table.iter_rows(named=True)}
    assert table["member_id"].to_list() == [2, 1, 5, 4, 3]  # best first, ties by id
    assert (rows[1]["n_visit"], rows[1]["points_visit"]) == (4, 6.0)
    assert (rows[1]["n_absent"], rows[1]["points_absent"]) == (2, -5.0)
    assert (rows[1]["raw"], rows[1]["score"]) == (8.0, 8.0)
    assert (rows[2]["points_proposal"], rows[2]["raw"], rows[2]["score"]) == (20.0, 23.0, 20.0)
    assert (rows[3]["score"], rows[4]["score"], rows[5]["score"]) == (-3.0, 0.0, 8.0)
    assert {m: r["rank"] for m, r in rows.items()} == {2: 1, 1: 2, 5: 2, 4: 4, 3: 5}
    assert "n_research" not in table.columns
    # another year: only the members asked for, all at zero
    empty = duty_scores(_hand_worked(), RULES, year=2023, members=[1])
    assert empty.select("member_id", "score", "rank").rows() == [(1, 0.0, 1)]


def test_default_rules_cover_every_duty_kind_and_attendance() -> None:
    assert set(DEFAULT_RULES.items) == {*(k.value for k in DutyKind), "attended", "absent"}
    assert set(DEFAULT_RULES.items) == set(ITEM_NAMES)
    assert DEFAULT_RULES.items["absent"].points < 0
    table = duty_scores(_items([(1, "visit", date(2025, 5, 1))] * 15), DEFAULT_RULES, year=2025)
    assert table["points_visit"].to_list() == [20.0]  # 15 × 2 = 30, capped at 20


def test_rules_as_entered() -> None:
    rules = check_rules({"visit": ("2.5", ""), "absent": (-1, "4")}, "50")
    assert rules == ScoringRules({"visit": ItemRule(2.5), "absent": ItemRule(-1, 4)}, 50)
    assert ScoringRules.from_json(rules.to_json()) == rules
    assert ScoringRules.from_json(DEFAULT_RULES.to_json()) == DEFAULT_RULES
    with pytest.raises(UserError, match="未知计分项「meeting」"):
        check_rules({"meeting": (1, None)})
    with pytest.raises(UserError, match="「走访企业」的分值「两分」不是数字"):
        check_rules({"visit": ("两分", None)})
    with pytest.raises(UserError, match="「走访企业」的上限不能为负"):
        check_rules({"visit": (2, -1)})
    with pytest.raises(UserError, match="总分上限「inf」无效"):
        check_rules({}, "inf")


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_row_order(rng) -> None:  # type: ignore[no-untyped-def]
    rows = _hand_worked().rows()
    rng.shuffle(rows)
    shuffled = duty_scores(_items(rows), RULES, year=2025, members=[4])
    assert shuffled.equals(duty_scores(_hand_worked(), RULES, year=2025, members=[4]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(sorted(ITEM_NAMES))), max_size=60))
def test_each_kind_stays_within_its_cap_and_the_total_within_the_total_cap(rows) -> None:  # type: ignore[no-untyped-def]
    items = _items([(m, k, date(2025, 6, 1)) for m, k in rows])
    table = duty_scores(items, DEFAULT_RULES, year=2025)
    for kind, rule in DEFAULT_RULES.items.items():
        if rule.cap is not None:
            assert table[f"points_{kind}"].abs().max() is None or (
                table[f"points_{kind}"].abs().max() <= rule.cap  # type: ignore[operator]
            )
    assert DEFAULT_RULES.total_cap is not None
    assert all(score <= DEFAULT_RULES.total_cap for score in table["score"])
    assert table.height == len({m for m, _ in rows})
