"""The yearly CPPCC figures: the pure computation against numbers worked out by hand, and
the same figures and the duty scores loaded from the app database (SQLite and PostgreSQL),
with the yearly scoring rules kept and edited safely."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from chainatlas.cppcc import assessment, consultations, duties, suggestions
from chainatlas.cppcc.statistics import (
    ATTENDANCE_SCHEMA,
    CASE_SCHEMA,
    CONSULTATION_CASE_SCHEMA,
    CONSULTATION_SCHEMA,
    DUTY_SCHEMA,
    FIGURES,
    member_statistics,
    system_statistics,
)
from chainatlas.db.session import Database
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.models import Case

SYSTEM = Actor.system("setup")
D = date


def _frames() -> tuple[pl.DataFrame, ...]:
    consultations_ = pl.DataFrame(
        [
            (1, "topical", D(2025, 3, 20)),
            (2, "topical", D(2025, 7, 15)),
            (3, "bimonthly", D(2025, 9, 10)),
            (4, "topical", D(2024, 11, 1)),
            (5, "sector", D(2025, 5, 5)),
        ],
        schema=CONSULTATION_SCHEMA,
        orient="row",
    )
    attendance = pl.DataFrame(
        [
            (1, 1, "present"),
            (1, 2, "absent"),
            (2, 1, "present"),
            (2, 2, "excused"),
            (3, 2, "present"),
            (4, 1, "present"),  # 2024
        ],
        schema=ATTENDANCE_SCHEMA,
        orient="row",
    )
    duty_rows = [
        (1, 1, "visit", D(2025, 4, 8), 101),
        (2, 1, "visit", D(2025, 6, 1), 102),
        (3, 2, "investment_event", D(2025, 5, 20), None),
        (4, 2, "visit", D(2024, 12, 20), 103),
        (5, 3, "matchmaking", D(2025, 8, 1), None),
        (6, 1, "investment_event", D(2025, 10, 1), None),
        (7, 2, "visit", D(2025, 2, 2), 101),  # both members took up case 101
    ]
    duty_frame = pl.DataFrame(duty_rows, schema=DUTY_SCHEMA, orient="row")
    meeting_cases = pl.DataFrame(
        [(1, 104), (2, 101)], schema=CONSULTATION_CASE_SCHEMA, orient="row"
    )
    cases = pl.DataFrame(
        [
            (101, "resolved", D(2025, 4, 8), D(2025, 5, 30)),
            (102, "in_progress", D(2025, 6, 1), None),
            (103, "confirmed", D(2024, 12, 20), D(2025, 1, 15)),
            (104, "resolved", D(2025, 3, 20), D(2026, 1, 5)),
            (105, "resolved", D(2025, 3, 1), D(2025, 3, 2)),  # not from the CPPCC
        ],
        schema=CASE_SCHEMA,
        orient="row",
    )
    return consultations_, attendance, duty_frame, meeting_cases, cases


def test_system_figures_by_hand() -> None:
    meetings, _attendance, duty_frame, meeting_cases, cases = _frames()
    figures = system_statistics(meetings, duty_frame, meeting_cases, cases, year=2025)
    assert figures == {
        "consultations_held": 4,
        "consultations_topical": 2,
        "consultations_counterpart": 0,
        "consultations_sector": 1,
        "consultations_bimonthly": 1,
        "consultations_other": 0,
        "duties_visit": 3,
        "duties_investment_event": 2,
        "duties_research": 0,
        "duties_speech": 0,
        "duties_proposal": 0,
        "duties_matchmaking": 1,
        "duties_village_pairing": 0,
        "members_active": 3,
        # cases 101, 102, 104 raised in 2025 (103 in 2024; 105 not from the CPPCC)
        "difficulties_coordinated": 3,
        # 101 and 103 resolved in 2025; 104 only in 2026; 102 still open
        "difficulties_solved": 2,
    }
    assert set(figures) <= set(FIGURES)
    earlier = system_statistics(meetings, duty_frame, meeting_cases, cases, year=2024)
    assert (earlier["consultations_topical"], earlier["duties_visit"]) == (1, 1)
    assert (earlier["difficulties_coordinated"], earlier["difficulties_solved"]) == (1, 0)


def test_member_figures_by_hand() -> None:
    meetings, attendance, duty_frame, _meeting_cases, cases = _frames()
    table = member_statistics(meetings, attendance, duty_frame, cases, year=2025, members=[4])
    rows = {r["member_id"]: r for r in table.iter_rows(named=True)}
    assert list(rows) == [1, 2, 3, 4]
    pick = (
        "consultations_attended",
        "topical_attended",
        "consultations_missed",
        "duties_visit",
        "duties_investment_event",
        "duties_matchmaking",
        "difficulties_coordinated",
        "difficulties_solved",
    )
    assert {m: tuple(r[c] for c in pick) for m, r in rows.items()} == {
        1: (2, 2, 0, 2, 1, 0, 2, 1),  # cases 101 (solved) and 102
        2: (1, 0, 1, 1, 1, 0, 1, 2),  # case 101 raised 2025; 103 (2024) and 101 solved in 2025
        3: (0, 0, 0, 0, 0, 1, 0, 0),
        4: (0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert table.schema["difficulties_solved"] == pl.Int64()


def _scenario(db: Database, setting) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        first = consultations.create_consultation(
            s, SYSTEM, kind="topical", held_on=D(2025, 3, 20), topic="甘蔗延链", chain_ids=["toy"]
        )
        second = consultations.create_consultation(
            s,
            SYSTEM,
            kind="topical",
            held_on=D(2025, 7, 15),
            topic="延链补链强链",
            chain_ids=["toy"],
        )
        third = consultations.create_consultation(
            s, SYSTEM, kind="bimonthly", held_on=D(2025, 9, 10), topic="乡村振兴"
        )
        consultations.record_attendance(
            s,
            SYSTEM,
            first.id,
            {setting.zhang: "present", setting.li: "absent"},
            expected_version=None,
        )
        consultations.record_attendance(
            s,
            SYSTEM,
            second.id,
            {setting.zhang: "present", setting.li: "excused"},
            expected_version=None,
        )
        consultations.record_attendance(
            s, SYSTEM, third.id, {setting.wang: "present"}, expected_version=None
        )
        consultations.raise_case(
            s, SYSTEM, first.id, title="蔗区道路", category="logistics", chain_id="toy"
        )
        zhang = setting.actor(s, "zhang")
        visit = duties.add_duty(
            s,
            zhang,
            member_id=setting.zhang,
            kind="visit",
            done_on=D(2025, 4, 8),
            title="走访",
            enterprise_name="梧州甲料科技有限公司",
            chain_ids=["toy"],
        )
        duties.add_duty(
            s,
            zhang,
            member_id=setting.zhang,
            kind="investment_event",
            done_on=D(2025, 5, 20),
            title="粤港招商",
        )
        duties.add_duty(
            s,
            SYSTEM,
            member_id=setting.wang,
            kind="village_pairing",
            done_on=D(2025, 5, 1),
            title="结对",
        )
        suggestions.add_submission(
            s,
            setting.actor(s, "li"),
            kind="proposal",
            title="提案",
            member_id=setting.li,
            raised_on=D(2025, 3, 20),
        )
        case = duties.raise_case_from_visit(
            s,
            SYSTEM,
            visit.id,
            title="用电",
            category="energy",
            chain_id="toy",
            unit_id=setting.commerce,
            deadline=D(2025, 6, 30),
        )
        case_service.start_case(s, SYSTEM, case.id, expected_version=None)
        case_service.resolve_case(s, SYSTEM, case.id, expected_version=None, resolution="已扩容")
        # resolved on 2025-05-30 (China time) rather than today
        row = s.get(Case, case.id)
        assert row is not None
        row.resolved_at = datetime(2025, 5, 29, 20, 0)
        return {"case": case.id}


def test_yearly_report_from_the_database(db: Database, setting) -> None:
    _scenario(db, setting)
    with db.session() as s:
        report = assessment.yearly_report(s, setting.actor(s, "viewer"), 2025)
        figures = report.system
        assert (figures["consultations_held"], figures["consultations_topical"]) == (3, 2)
        assert (figures["duties_visit"], figures["duties_investment_event"]) == (1, 1)
        assert (figures["duties_proposal"], figures["duties_village_pairing"]) == (1, 1)
        assert figures["members_active"] == 3
        assert (figures["difficulties_coordinated"], figures["difficulties_solved"]) == (2, 1)
        rows = {r["member_name"]: r for r in report.members.iter_rows(named=True)}
        assert set(rows) == {"张委员", "李委员", "王委员"}
        zhang, li, wang = rows["张委员"], rows["李委员"], rows["王委员"]
        assert (zhang["topical_attended"], zhang["duties_visit"], zhang["difficulties_solved"]) == (
            2,
            1,
            1,
        )
        assert (
            li["consultations_attended"],
            li["consultations_missed"],
            li["duties_proposal"],
        ) == (0, 1, 1)
        assert (wang["consultations_attended"], wang["topical_attended"], wang["group_id"]) == (
            1,
            0,
            "economy",
        )
        # a chain office counts what it sees: the meetings and visits on its chain
        office = assessment.yearly_report(s, setting.actor(s, "office"), 2025).system
        assert (
            office["consultations_held"],
            office["duties_visit"],
            office["duties_village_pairing"],
        ) == (2, 1, 0)
        assert (office["difficulties_coordinated"], office["difficulties_solved"]) == (2, 1)


def test_scores_and_yearly_rules(db: Database, setting) -> None:
    _scenario(db, setting)
    with db.session() as s:
        rules, version = assessment.scoring_rules(s, 2025)
        assert version == 0 and rules == assessment.DEFAULT_RULES
        scores = assessment.member_scores(s, SYSTEM, 2025)
        # defaults: 张 visit 2 + investment 3 + two meetings 4 = 9; 王 village 5 + one
        # meeting 2 = 7; 李 proposal 5 − one absence 3 = 2
        assert scores.select("member_name", "score", "rank").rows() == [
            ("张委员", 9.0, 1),
            ("王委员", 7.0, 2),
            ("李委员", 2.0, 3),
        ]
        with pytest.raises(NotAllowed):
            assessment.set_scoring_rules(
                s, setting.actor(s, "zhang"), 2025, {"visit": (10, None)}, expected_version=0
            )
        assessment.set_scoring_rules(
            s,
            setting.actor(s, "analyst"),
            2025,
            {"visit": (10, None), "attended": (1, None)},
            12,
            expected_version=0,
        )
    with db.session() as s:
        with pytest.raises(EditConflict):  # someone else saw the defaults too
            assessment.set_scoring_rules(s, SYSTEM, 2025, {"visit": (1, None)}, expected_version=0)
        rules, version = assessment.scoring_rules(s, 2025)
        assert version == 1 and rules.total_cap == 12
        # 张 10 + 2 = 12 (the total cap); 王 1; 李 0 (absences no longer scored)
        assert assessment.member_scores(s, SYSTEM, 2025).select("member_name", "score").rows() == [
            ("张委员", 12.0),
            ("王委员", 1.0),
            ("李委员", 0.0),
        ]
        assert assessment.scoring_rules(s, 2024) == (assessment.DEFAULT_RULES, 0)
        assessment.set_scoring_rules(s, SYSTEM, 2025, {"visit": (3, 3)}, expected_version=1)
    with db.session() as s:
        assert assessment.scoring_rules(s, 2025)[1] == 2
        assert assessment.member_scores(s, SYSTEM, 2025)["score"].to_list() == [3.0, 0.0, 0.0]
