"""The report "上一次意见建议办理情况" of the Wuzhou sample, on SQLite and PostgreSQL: the
meeting of 2025-07-15 is read from the report; the previous consultation of the same kind
(December 2024) had suggestions from 民革, 民盟, 民建, 九三学社 and 工商联, handled, merged,
split or not yet assigned. Rows, counts and both renderings are checked against values
worked out by hand."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from chainatlas.cppcc import consultations, merging, results
from chainatlas.cppcc import handling_report as report_svc
from chainatlas.cppcc import suggestions as svc
from chainatlas.cppcc.intake import extract_meeting
from chainatlas.db.session import Database
from chainatlas.workflow.access import Actor, NotAllowed

SYSTEM = Actor.system("setup")
DATA = Path(__file__).with_name("data")


def _previous_meeting_and_suggestions(db: Database, setting) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        previous = consultations.create_consultation(
            s,
            SYSTEM,
            kind="topical",
            held_on=date(2024, 12, 10),
            topic="推动产业高质量发展",
            title="2024年第四次政党协商座谈会",
            region_code="450400",
            chain_ids=["toy"],
        ).id
        # not "the previous one": another region, another kind, a later draft of nothing
        consultations.create_consultation(
            s,
            SYSTEM,
            kind="topical",
            held_on=date(2025, 2, 1),
            topic="南宁",
            region_code="450100",
            chain_ids=["toy"],
        )
        consultations.create_consultation(
            s,
            SYSTEM,
            kind="sector",
            held_on=date(2025, 3, 1),
            topic="界别",
            region_code="450400",
            chain_ids=["toy"],
        )

        def add(title: str, group: str, chain: str | None = "toy") -> int:
            return svc.add_submission(
                s,
                SYSTEM,
                kind="suggestion",
                title=title,
                group=group,
                consultation_id=previous,
                chain_id=chain,
            ).id

        ids = {
            "previous": previous,
            "a": add("强化链主企业招商", "民革"),
            "b": add("建立延链补链政策支撑体系", "民盟"),
            "c": add("加大链主企业招商力度", "民建"),
            "d": add("产业人才与营商环境", "九三学社"),
            "e": add("民营企业融资<难>", "工商联", None),
        }
        svc.assign_units(
            s, SYSTEM, ids["a"], [svc.HandlingIn(setting.commerce)], expected_version=None
        )
        svc.assign_units(
            s,
            SYSTEM,
            ids["b"],
            [
                svc.HandlingIn(setting.office, lead=True),
                svc.HandlingIn(setting.commerce, deadline=date(2025, 3, 31)),
            ],
            expected_version=None,
        )
        a, b = svc.get_submission(s, ids["a"]), svc.get_submission(s, ids["b"])
        svc.answer(
            s,
            SYSTEM,
            a.handlings[0].id,
            expected_version=None,
            answer_text="已制定链主企业招商清单",
            answered_on=date(2025, 1, 20),
            answered_by="商务局 陈某",
        )
        office_row = next(h for h in b.handlings if h.unit_id == setting.office)
        svc.answer(
            s,
            SYSTEM,
            office_row.id,
            expected_version=None,
            answer_text="政策正在起草",
            answered_on=date(2025, 1, 25),
        )
        results.update_result(
            s, SYSTEM, ids["a"], expected_version=None, status="in_progress", progress=60
        )
        results.add_milestone(
            s,
            SYSTEM,
            ids["a"],
            expected_version=None,
            reached_on=date(2025, 3, 1),
            title="出台链主企业扶持办法",
        )
        merging.merge_submissions(s, SYSTEM, ids["a"], [ids["c"]])
        d1, d2 = merging.split_submission(
            s,
            SYSTEM,
            ids["d"],
            [merging.SplitPart("产业人才引进"), merging.SplitPart("优化营商环境")],
            expected_version=None,
        )
        ids["d1"], ids["d2"] = d1.id, d2.id
        svc.assign_units(s, SYSTEM, d1.id, [svc.HandlingIn(setting.office)], expected_version=None)
        svc.answer(
            s,
            SYSTEM,
            svc.get_submission(s, d1.id).handlings[0].id,
            expected_version=None,
            answer_text="人才政策已出台",
            answered_on=date(2025, 2, 10),
        )
        results.update_result(s, SYSTEM, d1.id, expected_version=None, status="done")
    return ids


def _wuzhou_meeting(db: Database) -> int:
    draft = extract_meeting((DATA / "wuzhou_consultation_2025.txt").read_text(encoding="utf-8"))
    with db.session() as s:
        return consultations.meeting_from_draft(s, SYSTEM, draft, chain_ids=["toy"]).id


def test_rows_and_counts(db: Database, setting) -> None:
    ids = _previous_meeting_and_suggestions(db, setting)
    meeting = _wuzhou_meeting(db)
    with db.session() as s:
        report = report_svc.previous_handling_report(s, setting.actor(s, "analyst"), meeting)
        assert report.previous is not None and report.previous.id == ids["previous"]
        rows = {r.submission_id: r for r in report.rows}
        # the split one is reported through its parts
        assert list(rows) == [ids[k] for k in ("a", "b", "c", "d1", "d2", "e")]
        a, b, c = rows[ids["a"]], rows[ids["b"]], rows[ids["c"]]
        assert (a.raised_by(), a.status, a.progress, a.answered) == (
            "民革",
            "in_progress",
            60.0,
            True,
        )
        assert [(x.unit, x.lead, x.answered_on, x.answered_by) for x in a.answers] == [
            ("商务局", True, date(2025, 1, 20), "商务局 陈某")
        ]
        assert [(m.reached_on, m.title) for m in a.milestones] == [
            (date(2025, 3, 1), "出台链主企业扶持办法")
        ]
        assert [(x.unit, x.state) for x in b.answers] == [
            ("工信局", "answered"),
            ("商务局", "assigned"),
        ]
        assert not b.answered and b.status == "planned"
        # the merged one reports the handling of the one it went into
        assert (c.merged_into, c.handled_in, c.status, c.answered) == (
            ids["a"],
            ids["a"],
            "in_progress",
            True,
        )
        assert rows[ids["d1"]].split_from == ids["d"] and rows[ids["d1"]].status == "done"
        assert rows[ids["d2"]].answers == [] and rows[ids["e"]].raised_by("en") == (
            "Federation of Industry and Commerce"
        )
        assert report.counts() == {
            "planned": 3,
            "in_progress": 2,
            "done": 1,
            "not_adopted": 0,
            "answered": 3,
            "total": 6,
        }
        # a handling unit sees the suggestions on its chain and those it handles
        commerce = report_svc.previous_handling_report(s, setting.actor(s, "commerce"), meeting)
        assert [r.submission_id for r in commerce.rows] == [
            ids[k] for k in ("a", "b", "c", "d1", "d2")
        ]
        with pytest.raises(NotAllowed):
            report_svc.previous_handling_report(s, setting.actor(s, "land"), meeting)
        first = report_svc.previous_handling_report(s, SYSTEM, ids["previous"])
        assert first.previous is None and first.rows == []


def test_text_and_html(db: Database, setting) -> None:
    ids = _previous_meeting_and_suggestions(db, setting)
    meeting = _wuzhou_meeting(db)
    with db.session() as s:
        report = report_svc.previous_handling_report(s, SYSTEM, meeting)
        text = report_svc.render_text(report)
        english = report_svc.render_text(report, "en")
        html = report_svc.render_html(report)
        nothing = report_svc.render_text(
            report_svc.previous_handling_report(s, SYSTEM, ids["previous"])
        )
    lines = text.splitlines()
    assert lines[0] == "上一次意见建议办理情况"
    assert (
        lines[1]
        == "上次会议：2024-12-10 专题协商「推动产业高质量发展」（2024年第四次政党协商座谈会）"
    )
    assert (
        lines[2] == "共 6 条，已答复 3 条；计划落实 3 条，正在落实 2 条，已落实 1 条，未采纳 0 条。"
    )
    assert lines[3] == f"1. 【民革】强化链主企业招商（意见建议 #{ids['a']}）"
    assert "   承办单位：商务局（主办，已答复，2025-01-20，答复人 商务局 陈某）" in lines
    assert "   答复（商务局）：已制定链主企业招商清单" in lines
    assert "   落实情况：正在落实，进度 60%" in lines
    assert "   最新进展：2025-03-01 出台链主企业扶持办法" in lines
    assert (
        "   承办单位：工信局（主办，已答复，2025-01-25）；商务局（协办，待答复，期限 2025-03-31）"
        in lines
    )
    assert f"   已并入 #{ids['a']}" in lines and f"   拆分自 #{ids['d']}" in lines
    assert lines.count("   承办单位：尚未交办") == 2  # the second part and 工商联's
    assert len(re.findall(r"^\d+\. 【", text, flags=re.M)) == 6
    assert "Handling of the suggestions of the previous meeting" in english
    assert "6 suggestions, 3 answered; 3 planned, 2 in progress, 1 done, 0 not adopted." in english
    assert f"merged into #{ids['a']}" in english
    assert nothing.splitlines()[1] == "此前没有同类协商会议。"
    # HTML: one table row per suggestion, every text escaped
    assert html.startswith('<section class="cppcc-handling-report"><h2>上一次意见建议办理情况</h2>')
    assert html.count("<tr>") == 7  # the head and six rows
    assert "民营企业融资&lt;难&gt;" in html and "<难>" not in html
    assert 'style="width:60%"' in html and "已落实" in html
