"""履职统计 and 履职计分 pages: the yearly figures on the page, in the chart data, in the
report sentence and in the XLSX equal the counts of the meetings, attendance, duty records
and cases created here through the services (last year, so every date is in the past);
scoped roles count only their chains; the scoring rules edited through the form (a message
per field, typed values kept, 409 on a stale version) change the ranking; the access matrix
of every route × role."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.cppcc_world import CppccWorld, make_cppcc_world
from tests.web.workflow_world import OTHER, csrf_on

from chainatlas.cppcc import assessment, consultations, duties
from chainatlas.cppcc.scoring import DEFAULT_RULES, ITEM_NAMES, ScoringRules
from chainatlas.cppcc.statistics import FIGURES
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import Case

SETUP = Actor.system("setup")
YEAR = local_today().year - 1
EARLIER = YEAR - 1
ROLES = ("admin", "analyst", "office", "unit_a", "nev_office", "zhang", "li", "viewer")
SCORING_READERS = {"admin", "analyst", "zhang", "li", "viewer"}
SCORING_EDITORS = {"admin", "analyst"}

# (kind, day, chains, attendance by member key)
MEETINGS: tuple[tuple[str, date, tuple[str, ...], dict[str, str]], ...] = (
    ("topical", date(YEAR, 3, 20), (SCOPED_CHAIN,), {"zhang": "present", "li": "absent"}),
    ("topical", date(YEAR, 6, 12), (SCOPED_CHAIN,), {"zhang": "present", "wang": "present"}),
    ("topical", date(YEAR, 9, 5), (SCOPED_CHAIN,), {"li": "excused"}),
    ("bimonthly", date(YEAR, 8, 1), (), {"wang": "present", "li": "present"}),
    ("counterpart", date(YEAR, 11, 3), (OTHER,), {"li": "present"}),
    ("topical", date(EARLIER, 10, 9), (SCOPED_CHAIN,), {"zhang": "present"}),
)
# (member key, kind, day, chains)
DUTIES: tuple[tuple[str, str, date, tuple[str, ...]], ...] = (
    ("zhang", "visit", date(YEAR, 4, 8), (SCOPED_CHAIN,)),
    ("zhang", "visit", date(YEAR, 5, 16), (SCOPED_CHAIN,)),
    ("zhang", "investment_event", date(YEAR, 7, 1), (SCOPED_CHAIN,)),
    ("li", "investment_event", date(YEAR, 7, 2), (OTHER,)),
    ("li", "proposal", date(YEAR, 3, 1), ()),
    ("wang", "matchmaking", date(YEAR, 10, 10), ()),
    ("wang", "village_pairing", date(YEAR, 12, 1), ()),
    ("wang", "visit", date(EARLIER, 12, 20), (OTHER,)),
)


@dataclass(frozen=True)
class Scenario:
    members: dict[str, int]  # member key → member id
    visit_case: int  # raised from zhang's first visit, resolved in YEAR
    meeting_case: int  # raised at the bimonthly meeting, still open


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CppccWorld:
    return make_cppcc_world(tmp_path_factory.mktemp("cpstats"), web_settings, PASSWORD)


@pytest.fixture(scope="module")
def scenario(world: CppccWorld) -> Scenario:
    ids = {"zhang": world.members.zhang, "li": world.members.li, "wang": world.members.wang}
    with world.world.state.db.session() as session:
        meetings = []
        for kind, day, chains, present in MEETINGS:
            meeting = consultations.create_consultation(
                session, SETUP, kind=kind, held_on=day, topic=f"{kind}{day}", chain_ids=chains
            )
            consultations.record_attendance(
                session,
                SETUP,
                meeting.id,
                {ids[k]: status for k, status in present.items()},
                expected_version=None,
            )
            meetings.append(meeting.id)
        records = [
            duties.add_duty(
                session,
                SETUP,
                member_id=ids[who],
                kind=kind,
                done_on=day,
                title=f"{who}{kind}{day}",
                enterprise_name="梧州测试糖业有限公司" if kind == "visit" else "",
                chain_ids=chains,
            ).id
            for who, kind, day, chains in DUTIES
        ]
        visit_case = duties.raise_case_from_visit(
            session,
            SETUP,
            records[0],
            title="技改用电增容",
            category="energy",
            chain_id=SCOPED_CHAIN,
            unit_id=world.units.unit_a,
            deadline=date(YEAR, 6, 30),
        )
        case_service.start_case(session, SETUP, visit_case.id, expected_version=None)
        case_service.resolve_case(
            session, SETUP, visit_case.id, expected_version=None, resolution="已增容"
        )
        row = session.get(Case, visit_case.id)
        assert row is not None
        row.resolved_at = datetime(YEAR, 5, 30, 4, 0)
        meeting_case = consultations.raise_case(
            session,
            SETUP,
            meetings[3],
            title="蔗区道路",
            category="logistics",
            chain_id=SCOPED_CHAIN,
        )
        return Scenario(ids, visit_case.id, meeting_case.id)


# --- what the records say, counted here ---------------------------------------------------
def expected_system(year: int, chains: set[str] | None = None) -> dict[str, int]:
    """The figures counted from the test's own tables (`chains`: what a scoped role sees;
    records without a chain are then out)."""

    def seen(on: tuple[str, ...]) -> bool:
        return chains is None or bool(set(on) & chains)

    held = [k for k, day, on, _ in MEETINGS if day.year == year and seen(on)]
    done = [k for _, k, day, on in DUTIES if day.year == year and seen(on)]
    figures = {"consultations_held": len(held)}
    for kind in ("topical", "counterpart", "sector", "bimonthly", "other"):
        figures[f"consultations_{kind}"] = held.count(kind)
    for kind in (
        "visit",
        "investment_event",
        "research",
        "speech",
        "proposal",
        "matchmaking",
        "village_pairing",
    ):
        figures[f"duties_{kind}"] = done.count(kind)
    figures["members_active"] = len(
        {w for w, _, day, on in DUTIES if day.year == year and seen(on)}
    )
    # the case from 张's visit (on sugarcane, resolved in YEAR) and the one the bimonthly
    # meeting (no chain) raised, still open
    visit_seen = chains is None or SCOPED_CHAIN in chains
    meeting_seen = chains is None
    in_year = year == YEAR
    figures["difficulties_coordinated"] = in_year * (visit_seen + meeting_seen)
    figures["difficulties_solved"] = in_year * visit_seen
    return figures


def expected_member(key: str, year: int) -> dict[str, int]:
    status = Counter(a.get(key) for _, day, _, a in MEETINGS if day.year == year)
    topical = sum(
        1
        for kind, day, _, a in MEETINGS
        if day.year == year and a.get(key) == "present" and kind == "topical"
    )
    done = Counter(k for w, k, day, _ in DUTIES if w == key and day.year == year)
    row = {
        "consultations_attended": status["present"],
        "topical_attended": topical,
        "consultations_missed": status["absent"],
        **{
            f"duties_{k}": done[k]
            for k in (
                "visit",
                "investment_event",
                "research",
                "speech",
                "proposal",
                "matchmaking",
                "village_pairing",
            )
        },
        "difficulties_coordinated": 1 if key == "zhang" and year == YEAR else 0,
        "difficulties_solved": 1 if key == "zhang" and year == YEAR else 0,
    }
    return row


def expected_scores(year: int, rules: ScoringRules) -> dict[str, float]:
    """Each member's score under `rules`, from the test's tables (scoring.py's formula)."""
    scores = {}
    for key in ("zhang", "li", "wang"):
        counts: Counter[str] = Counter(
            k for w, k, day, _ in DUTIES if w == key and day.year == year
        )
        for _, day, _, present in MEETINGS:
            mark = {"present": "attended", "absent": "absent"}.get(present.get(key, ""))
            if day.year == year and mark:
                counts[mark] += 1
        total = 0.0
        for item, rule in rules.items.items():
            earned = counts[item] * rule.points
            if rule.cap is not None:
                earned = max(-rule.cap, min(rule.cap, earned))
            total += earned
        scores[key] = total if rules.total_cap is None else min(total, rules.total_cap)
    return scores


# --- reading the pages ----------------------------------------------------------------------
def system_on(page: str) -> dict[str, int]:
    table = page.split('id="cpd-system"')[1].split("</table>")[0]
    return {
        key: int(value)
        for key, value in re.findall(
            r'data-figure="(\w+)"><td>[^<]*</td><td class="num">(\d+)</td>', table
        )
    }


def members_on(page: str) -> dict[int, dict[str, int]]:
    table = page.split('id="cpd-members"')[1].split("</table>")[0]
    rows = {}
    for member, body in re.findall(r'<tr data-member="(\d+)">(.*?)</tr>', table, re.S):
        rows[int(member)] = {
            k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)</td>', body)
        }
    return rows


def ranking_on(page: str) -> list[tuple[int, float]]:
    table = page.split('id="cpd-ranking"')[1].split("</table>")[0]
    return [
        (int(m), float(s))
        for m, s in re.findall(r'<tr data-member="(\d+)">.*?data-score="([-\d.]+)"', table, re.S)
    ]


def workbook(response: Any) -> Any:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(io.BytesIO(response.content), read_only=True)


# --- the tests ------------------------------------------------------------------------------
def test_the_access_matrix(world: CppccWorld, scenario: Scenario) -> None:
    for role in ROLES:
        client = world.client(role)
        for path in (f"/cppcc/statistics?year={YEAR}", f"/cppcc/statistics.xlsx?year={YEAR}"):
            assert client.get(path).status_code == 200, (role, path)
        reads = 200 if role in SCORING_READERS else 403
        for path in (f"/cppcc/scoring?year={YEAR}", f"/cppcc/scoring.xlsx?year={YEAR}"):
            assert client.get(path).status_code == reads, (role, path)
        page = client.get("/cppcc/statistics").text
        if reads == 200:
            editor = 'id="rules-form"' in client.get("/cppcc/scoring").text
            assert editor == (role in SCORING_EDITORS), role
        before = rules_of(world, EARLIER)
        response = client.post(
            "/cppcc/scoring",
            data={
                "csrf_token": csrf_on(page),
                "year": str(EARLIER),
                "version": str(before[1]),
                "points_visit": "1",
                "points_speech": "abc",  # refused before the values are checked
            },
            follow_redirects=False,
        )
        if role in SCORING_EDITORS:
            assert response.status_code == 422, role
        else:
            assert response.status_code == 403, role
        assert rules_of(world, EARLIER) == before
    anonymous = TestClient(world.app)
    for path in (
        "/cppcc/statistics",
        "/cppcc/statistics.xlsx",
        "/cppcc/scoring",
        "/cppcc/scoring.xlsx",
    ):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = anonymous.post("/cppcc/scoring", data={}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def rules_of(world: CppccWorld, year: int) -> tuple[ScoringRules, int]:
    with world.world.state.db.session() as session:
        return assessment.scoring_rules(session, year)


def test_the_figures_are_the_counts_of_the_records(world: CppccWorld, scenario: Scenario) -> None:
    viewer = world.client("viewer")
    page = viewer.get(f"/cppcc/statistics?year={YEAR}").text
    expected = expected_system(YEAR)
    assert system_on(page) == expected
    # the figures are not trivially zero: the scenario has something of each core kind
    assert expected["consultations_topical"] == 3 and expected["duties_visit"] == 2
    for key in ("consultations_topical", "duties_visit", "difficulties_solved"):
        kpi = page.split(f'id="kpi-{key}"')[1].split("</div>")[0]
        assert f'<div class="value">{expected[key]}' in kpi
    rows = members_on(page)
    for key, member in scenario.members.items():
        assert rows[member] == expected_member(key, YEAR), key

    sentence = page.split('id="cpd-sentence">')[1].split("</p>")[0]
    assert sentence.startswith(f"{YEAR}年")
    assert f"开展专题协商{expected['consultations_topical']}次" in sentence
    assert f"各类协商共{expected['consultations_held']}次" in sentence
    assert f"走访企业{expected['duties_visit']}家次" in sentence
    assert f"参加招商活动{expected['duties_investment_event']}次" in sentence
    assert f"提交提案{expected['duties_proposal']}件" in sentence
    assert (
        f"协调企业困难问题{expected['difficulties_coordinated']}个、"
        f"已解决{expected['difficulties_solved']}个" in sentence
    )
    assert "调研视察" not in sentence  # none this year: not named

    chart = json.loads(page.split('id="cpd-chart-data">')[1].split("</script>")[0])
    bars = {b["name"]: b["value"] for b in chart["bars"]}
    assert bars["专题协商"] == expected["consultations_topical"]
    assert bars["走访企业"] == expected["duties_visit"]
    assert bars["百企扶百村"] == expected["duties_village_pairing"]

    book = workbook(viewer.get(f"/cppcc/statistics.xlsx?year={YEAR}"))
    system = {row[0]: row[1] for row in book["全系统"].iter_rows(min_row=4, values_only=True)}
    assert system == {FIGURES[k][0]: v for k, v in expected.items()}
    sheet = list(book["委员"].iter_rows(values_only=True))
    headers = sheet[1]
    by_name = {row[0]: dict(zip(headers, row, strict=True)) for row in sheet[2:]}
    assert set(by_name) == {"张委员", "李委员", "王委员"}
    for key, name in (("zhang", "张委员"), ("li", "李委员"), ("wang", "王委员")):
        for figure, value in expected_member(key, YEAR).items():
            assert by_name[name][FIGURES[figure][0]] == value, (name, figure)
    assert by_name["张委员"]["党派界别"] == "民革"

    # the year switcher: the year before has its own figures
    earlier = viewer.get(f"/cppcc/statistics?year={EARLIER}").text
    assert system_on(earlier) == expected_system(EARLIER)
    assert f"{EARLIER - 1}" in earlier and f"?year={YEAR}" in earlier
    bad = viewer.get("/cppcc/statistics?year=20x5")
    assert bad.status_code == 422 and "年度" in bad.text
    viewer.get("/lang/en")
    english = viewer.get(f"/cppcc/statistics?year={YEAR}").text
    assert f"made {expected['duties_visit']} enterprise visits" in english
    assert f"In {YEAR} the CPPCC held {expected['consultations_topical']} topical" in english


def test_scoped_roles_count_only_their_chains(world: CppccWorld, scenario: Scenario) -> None:
    office = world.client("office").get(f"/cppcc/statistics?year={YEAR}").text
    assert system_on(office) == expected_system(YEAR, {SCOPED_CHAIN})
    assert "按您可查看的产业链" in office
    rows = members_on(office)
    # 张 recorded on sugarcane, 李 missed a sugarcane meeting, 王 attended one; only what
    # happened on sugarcane counts (王's bimonthly meeting and duties have no chain)
    assert set(rows) == set(scenario.members.values())
    wang = rows[scenario.members["wang"]]
    assert (wang["consultations_attended"], wang["duties_matchmaking"]) == (1, 0)
    li = rows[scenario.members["li"]]
    assert (li["consultations_missed"], li["duties_investment_event"]) == (1, 0)
    nev = world.client("nev_office").get(f"/cppcc/statistics?year={YEAR}").text
    assert system_on(nev) == expected_system(YEAR, {OTHER})
    assert set(members_on(nev)) == {scenario.members["li"]}
    book = workbook(world.client("office").get(f"/cppcc/statistics.xlsx?year={YEAR}"))
    system = {row[0]: row[1] for row in book["全系统"].iter_rows(min_row=4, values_only=True)}
    assert (
        system[FIGURES["consultations_held"][0]]
        == expected_system(YEAR, {SCOPED_CHAIN})["consultations_held"]
    )


def test_rules_changed_through_the_form_change_the_ranking(
    world: CppccWorld, scenario: Scenario
) -> None:
    analyst = world.client("analyst")
    page = analyst.get(f"/cppcc/scoring?year={YEAR}").text
    assert "默认规则" in page
    by_member = {v: k for k, v in scenario.members.items()}
    before = expected_scores(YEAR, DEFAULT_RULES)
    ranked = ranking_on(page)
    assert [(by_member[m], s) for m, s in ranked] == sorted(before.items(), key=lambda kv: -kv[1])
    # the defaults: 王 (matchmaking, village pairing, two meetings) ahead of 张 and 李
    assert [by_member[m] for m, _ in ranked] == ["wang", "zhang", "li"]

    # proposals weigh heavily now, investment events barely, with a total cap: 李 first
    values = {f"points_{item}": "" for item in ITEM_NAMES}
    values |= {f"cap_{item}": "" for item in ITEM_NAMES}
    values |= {
        "points_proposal": "50",
        "points_investment_event": "1",
        "cap_investment_event": "1",
        "points_absent": "-4",
        "total_cap": "45",
    }
    response = analyst.post(
        "/cppcc/scoring",
        data={"csrf_token": csrf_on(page), "year": str(YEAR), "version": "0", **values},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    rules, version = rules_of(world, YEAR)
    assert version == 1 and set(rules.items) == {"proposal", "investment_event", "absent"}
    after = expected_scores(YEAR, rules)
    assert after == {"li": 45.0, "zhang": 1.0, "wang": 0.0}
    page = analyst.get(f"/cppcc/scoring?year={YEAR}").text
    ranked = ranking_on(page)
    assert [(by_member[m], s) for m, s in ranked] == sorted(after.items(), key=lambda kv: -kv[1])
    assert [by_member[m] for m, _ in ranked] == ["li", "zhang", "wang"]
    assert "已调整（第 1 版）" in page
    # the ranking only shows the items scored now
    head = page.split('id="cpd-ranking"')[1].split("</thead>")[0]
    assert "提交提案" in head and "走访企业" not in head

    book = workbook(analyst.get(f"/cppcc/scoring.xlsx?year={YEAR}"))
    sheet = list(book["履职计分"].iter_rows(values_only=True))
    headers = sheet[1]
    assert headers[:3] == ("名次", "委员", "党派界别") and headers[-1] == "总分"
    rows = [dict(zip(headers, row, strict=True)) for row in sheet[2:]]
    assert [(r["委员"], r["总分"]) for r in rows] == [
        ({"zhang": "张委员", "li": "李委员", "wang": "王委员"}[k], s)
        for k, s in sorted(after.items(), key=lambda kv: -kv[1])
    ]
    assert rows[0]["提交提案（次）"] == 1 and rows[0]["名次"] == 1

    # another year keeps its own (default) rules
    other = analyst.get(f"/cppcc/scoring?year={EARLIER}").text
    assert "默认规则" in other
    # a member reads the rules and the ranking, without the editor
    zhang = world.client("zhang").get(f"/cppcc/scoring?year={YEAR}").text
    assert 'id="rules-form"' not in zhang and "不计分" in zhang
    assert ranking_on(zhang) == ranked


def test_rule_errors_are_named_per_field_and_a_stale_form_conflicts(
    world: CppccWorld, scenario: Scenario
) -> None:
    year = EARLIER
    first, second = world.client("analyst"), world.client("admin")
    page_1 = first.get(f"/cppcc/scoring?year={year}").text
    page_2 = second.get(f"/cppcc/scoring?year={year}").text
    version = re.search(r'name="version" value="(\d+)"', page_1)
    assert version is not None
    before = rules_of(world, year)
    typed = {
        "points_visit": "abc",
        "points_research": "2",
        "cap_research": "-1",
        "cap_speech": "5",  # a cap without points
        "points_investment_event": "5000",
        "points_proposal": "4",
        "total_cap": "x",
    }
    response = first.post(
        "/cppcc/scoring",
        data={
            "csrf_token": csrf_on(page_1),
            "year": str(year),
            "version": version.group(1),
            **typed,
        },
        follow_redirects=False,
    )
    assert response.status_code == 422
    errors = dict(
        re.findall(r'<span class="cpd-field-msg" id="err-(\w+)">([^<]*)</span>', response.text)
    )
    assert set(errors) == {
        "points_visit",
        "cap_research",
        "points_speech",
        "points_investment_event",
        "total_cap",
    }
    assert "走访企业" in errors["points_visit"] and "不是数字" in errors["points_visit"]
    assert "调研视察" in errors["cap_research"] and "不能为负" in errors["cap_research"]
    assert "协商发言" in errors["points_speech"]
    assert (
        "招商活动" in errors["points_investment_event"]
        and "1000" in errors["points_investment_event"]
    )
    assert "总分上限" in errors["total_cap"]
    assert "5 处" in response.text
    # what was typed stays in the fields
    assert 'name="points_visit" value="abc"' in response.text
    assert 'name="points_proposal" value="4"' in response.text
    assert 'name="cap_speech" value="5"' in response.text
    assert rules_of(world, year) == before
    first.get("/lang/en")
    english = first.post(
        "/cppcc/scoring",
        data={
            "csrf_token": csrf_on(page_1),
            "year": str(year),
            "version": version.group(1),
            **typed,
        },
        follow_redirects=False,
    )
    messages = dict(re.findall(r'id="err-(\w+)">([^<]*)</span>', english.text))
    assert "points of enterprise visit" in messages["points_visit"]
    assert "cannot be negative" in messages["cap_research"]
    first.get("/lang/zh")

    # two editors from the same version: the second gets the conflict, nothing overwritten
    fine = {"points_visit": "4", "cap_visit": "12", "total_cap": "60"}
    saved = first.post(
        "/cppcc/scoring",
        data={
            "csrf_token": csrf_on(page_1),
            "year": str(year),
            "version": version.group(1),
            **fine,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stale = second.post(
        "/cppcc/scoring",
        data={
            "csrf_token": csrf_on(page_2),
            "year": str(year),
            "version": version.group(1),
            "points_speech": "9",
        },
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert 'name="points_speech" value="9"' in stale.text
    rules, now = rules_of(world, year)
    assert set(rules.items) == {"visit"} and rules.total_cap == 60 and now == before[1] + 1
