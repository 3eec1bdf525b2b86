"""协商会议 pages: a meeting recorded through the form (leaders, parties and sectors, chains)
and its attendance counted by status and by group; form errors name the field and keep what
was typed; a stale edit gets the conflict and changes nothing; cases linked and raised from
the meeting; the "上一次意见建议办理情况" report of the previous meeting (answers and results of
its suggestions) as a page, text and DOCX; document intake of both samples; who may do what
on every route."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.cppcc_world import CppccWorld, make_cppcc_world
from tests.web.workflow_world import OTHER, csrf_on, version_on

from chainatlas.cppcc import consultations, plans, results
from chainatlas.cppcc import suggestions as submission_service
from chainatlas.cppcc.models import Consultation
from chainatlas.db.audit import AuditEntry
from chainatlas.services import intake as intake_service
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.models import Case

SETUP = Actor.system("setup")
SAMPLES = Path("/work/shared/samples")


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CppccWorld:
    return make_cppcc_world(tmp_path_factory.mktemp("cpmeetings"), web_settings, PASSWORD)


def meeting_of(world: CppccWorld, meeting_id: int) -> Consultation:
    with world.app.state.chainatlas.db.session() as session:
        meeting = session.get(Consultation, meeting_id)
        assert meeting is not None
        # read what the tests look at before the session closes
        _ = (meeting.chain_ids, [g.group_id for g in meeting.groups], meeting.leaders)
        _ = [(a.member_id, a.status, a.note) for a in meeting.attendance]
        session.expunge_all()
        return meeting


def meeting_fields(**extra: Any) -> dict[str, Any]:
    """A topical consultation on sugarcane: two leaders, 民革 (spoke, with its speaker) and
    民盟 and 经济界 taking part."""
    fields: dict[str, Any] = {
        "kind": "topical",
        "held_on": "2025-07-15",
        "topic": "推动甘蔗制糖产业延链补链强链",
        "title": "2025年第一次专题协商会",
        "region_code": "450400",
        "place": "市政协会议室",
        "chain_ids": [SCOPED_CHAIN],
        "leader_name": ["蒋连生", "何世恰", ""],
        "leader_title": ["市委书记", "市政协主席", ""],
        "leader_role": ["0:chair", "0:speech", "1:present"],
        "group_row": ["rcck", "cdl", "economy"],
        "group_speakers": ["张委员", "", ""],
        "groups": ["rcck", "cdl", "economy"],
        "spoke": ["rcck"],
    }
    fields.update(extra)
    return fields


def create_meeting(client: TestClient, **extra: Any) -> int:
    form = client.get("/cppcc/meetings/new")
    assert form.status_code == 200
    response = client.post(
        "/cppcc/meetings",
        data={"csrf_token": csrf_on(form.text), **meeting_fields(**extra)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:1500]
    return int(response.headers["location"].rsplit("/", 1)[1])


def record(
    client: TestClient, meeting_id: int, rows: dict[int, tuple[str, str]], page: str = ""
) -> Any:
    page = page or client.get(f"/cppcc/meetings/{meeting_id}").text
    return client.post(
        f"/cppcc/meetings/{meeting_id}/attendance",
        data={
            "csrf_token": csrf_on(page),
            "version": version_on(page),
            "member_id": [str(m) for m in rows],
            "status": [s for s, _ in rows.values()],
            "note": [n for _, n in rows.values()],
        },
        follow_redirects=False,
    )


def test_a_meeting_from_the_form_and_its_attendance_counted(world: CppccWorld) -> None:
    analyst = world.client("analyst")
    meeting_id = create_meeting(analyst)
    meeting = meeting_of(world, meeting_id)
    assert (meeting.kind, meeting.held_on, meeting.chain_ids) == (
        "topical",
        date(2025, 7, 15),
        [SCOPED_CHAIN],
    )
    assert [(x.name, x.title, x.roles) for x in meeting.leaders] == [
        ("蒋连生", "市委书记", "chair,speech"),
        ("何世恰", "市政协主席", "present"),
    ]
    assert [(g.group_id, g.spoke, g.speakers) for g in meeting.groups] == [
        ("rcck", True, "张委员"),
        ("cdl", False, ""),
        ("economy", False, ""),
    ]

    members = world.members
    response = record(
        analyst,
        meeting_id,
        {
            members.zhang: ("present", ""),
            members.li: ("excused", "赴南宁出差"),
            members.wang: ("absent", ""),
        },
    )
    assert response.status_code == 303, response.text[:1500]
    page = analyst.get(f"/cppcc/meetings/{meeting_id}").text
    for status in ("present", "absent", "excused"):
        kpi = page.split(f'id="cp-count-{status}"')[1].split("</div>")[0]
        assert '<div class="value">1' in kpi, status
    by_group = page.split('class="data cp-att-groups"')[1].split("</table>")[0]
    rows = {r.split("</td>")[0].split("<td>")[-1]: r for r in by_group.split("<tr>")[2:]}
    assert set(rows) == {"民革", "民盟", "经济界"}
    assert [c.split("<")[0] for c in rows["民盟"].split('<td class="num">')[1:]] == ["0", "0", "1"]
    assert "赴南宁出差" in page and "蒋连生" in page and "市委书记" in page and "主持" in page
    # the list counts them too
    listing = analyst.get("/cppcc/meetings?year=2025&kind=topical").text
    row = listing.split(f'href="/cppcc/meetings/{meeting_id}"')[1].split("</tr>")[0]
    assert [
        row.split(f'cp-att-{s}">')[1].split("<")[0] for s in ("present", "absent", "excused")
    ] == [
        "1",
        "1",
        "1",
    ]
    assert (
        f'href="/cppcc/meetings/{meeting_id}"' not in analyst.get("/cppcc/meetings?year=2024").text
    )

    # dropping one entry ("" = not recorded) leaves the others
    assert record(analyst, meeting_id, {members.wang: ("", "")}).status_code == 303
    after = meeting_of(world, meeting_id)
    assert sorted((a.member_id, a.status, a.note) for a in after.attendance) == sorted(
        [(members.zhang, "present", ""), (members.li, "excused", "赴南宁出差")]
    )
    with world.app.state.chainatlas.db.session() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"consultation:{meeting_id}")
        ).all()
    assert audited.count("cppcc.consultation.attendance") == 2


def count_meetings(world: CppccWorld) -> int:
    with world.app.state.chainatlas.db.session() as session:
        return len(session.scalars(select(Consultation.id)).all())


def test_form_errors_name_the_field_and_keep_what_was_typed(world: CppccWorld) -> None:
    analyst = world.client("analyst")
    token = csrf_on(analyst.get("/cppcc/meetings/new").text)
    before = count_meetings(world)

    def post(**extra: Any) -> Any:
        data = {"csrf_token": token, **meeting_fields(**extra)}
        return analyst.post("/cppcc/meetings", data=data, follow_redirects=False)

    missing = post(topic="  ")
    assert missing.status_code == 422 and "请填写协商议题" in missing.text
    page = missing.text
    # what was typed is all there: title, leaders with their roles, chains, groups
    assert 'value="2025年第一次专题协商会"' in page and 'value="蒋连生"' in page
    assert 'value="0:chair" checked' in page and 'value="1:chair" checked' not in page
    assert f'name="chain_ids" value="{SCOPED_CHAIN}" checked' in page
    assert 'name="spoke" value="rcck" checked' in page and 'value="张委员"' in page
    assert 'name="groups" value="economy" checked' in page
    assert post(kind="banquet").status_code == 422
    assert "协商类型「banquet」无效" in post(kind="banquet").text
    bad_region = post(region_code="45")
    assert bad_region.status_code == 422 and "行政区划代码「45」无效" in bad_region.text
    no_name = post(leader_name=["蒋连生", ""], leader_title=["市委书记", "市长"])
    assert no_name.status_code == 422 and "「出席领导」第 2 行" in no_name.text
    bad_day = post(held_on="2025-02-30")
    assert bad_day.status_code == 422 and "「会议日期」无效" in bad_day.text
    bad_group = post(groups=["rcck", "party_x"])
    assert bad_group.status_code == 422 and "party_x" in bad_group.text

    analyst.get("/lang/en")
    english = post(held_on="")
    assert english.status_code == 422 and "'meeting date' is required" in unescape(english.text)
    assert "topic is required" in post(topic="").text
    analyst.get("/lang/zh")
    assert count_meetings(world) == before


def test_a_stale_edit_gets_the_conflict_and_changes_nothing(world: CppccWorld) -> None:
    first, second = world.client("analyst"), world.client("admin")
    meeting_id = create_meeting(first, topic="冲突测试议题")
    with world.app.state.chainatlas.db.session() as session:
        plan = plans.create_plan(
            session, SETUP, 2039, topics=[plans.TopicIn("topical", "冲突测试计划议题")]
        )
        plan_topic = plan.topics[0].id
    page_1 = first.get(f"/cppcc/meetings/{meeting_id}/edit").text
    page_2 = second.get(f"/cppcc/meetings/{meeting_id}/edit").text
    assert version_on(page_1) == version_on(page_2)
    ok = first.post(
        f"/cppcc/meetings/{meeting_id}/edit",
        data={
            "csrf_token": csrf_on(page_1),
            "version": version_on(page_1),
            # filed under the plan's topic on the edit page
            **meeting_fields(
                topic="冲突测试议题（修订）", place="市民中心", plan_topic_id=str(plan_topic)
            ),
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert meeting_of(world, meeting_id).plan_topic_id == plan_topic
    stale = second.post(
        f"/cppcc/meetings/{meeting_id}/edit",
        data={
            "csrf_token": csrf_on(page_2),
            "version": version_on(page_2),
            **meeting_fields(topic="被覆盖的议题", place="别处"),
        },
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    # the second editor keeps what it typed, with the current version to retry from
    assert 'value="被覆盖的议题"' in stale.text
    meeting = meeting_of(world, meeting_id)
    assert (meeting.topic, meeting.place) == ("冲突测试议题（修订）", "市民中心")
    assert version_on(stale.text) == str(meeting.version)

    # the same for attendance recorded from a stale page
    page_a = first.get(f"/cppcc/meetings/{meeting_id}").text
    page_b = second.get(f"/cppcc/meetings/{meeting_id}").text
    assert (
        record(first, meeting_id, {world.members.zhang: ("present", "")}, page_a).status_code == 303
    )
    late = record(second, meeting_id, {world.members.zhang: ("absent", "")}, page_b)
    assert late.status_code == 409 and "已被他人修改" in late.text
    assert [(a.member_id, a.status) for a in meeting_of(world, meeting_id).attendance] == [
        (world.members.zhang, "present")
    ]


def test_cases_linked_to_and_raised_from_a_meeting(world: CppccWorld) -> None:
    analyst, admin = world.client("analyst"), world.client("admin")
    meeting_id = create_meeting(analyst, topic="糖企融资难题协商")
    with world.app.state.chainatlas.db.session() as session:
        existing = case_service.add_case(
            session,
            SETUP,
            title="糖企流动资金贷款难",
            source="member",
            category="finance",
            chain_id=SCOPED_CHAIN,
        ).id
    page = analyst.get(f"/cppcc/meetings/{meeting_id}").text
    assert f'<option value="{existing}">' in page
    linked = analyst.post(
        f"/cppcc/meetings/{meeting_id}/cases/link",
        data={"csrf_token": csrf_on(page), "version": version_on(page), "case_id": str(existing)},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    page = analyst.get(f"/cppcc/meetings/{meeting_id}").text
    cases = page.split('class="data cp-cases"')[1].split("</table>")[0]
    assert f'href="/cases/{existing}"' in cases and "糖企流动资金贷款难" in cases
    # an analyst may not raise workflow cases (the access table): no form, and refused
    assert 'id="cp-raise-case"' not in page
    raise_fields = {
        "title": "蔗糖仓储用地不足",
        "chain_id": SCOPED_CHAIN,
        "category": "land",
        "enterprise_name": "梧州测试糖业有限公司",
        "unit_id": str(world.units.unit_a),
        "deadline": "2025-09-30",
    }
    refused = analyst.post(
        f"/cppcc/meetings/{meeting_id}/cases/raise",
        data={"csrf_token": csrf_on(page), **raise_fields},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    admin_page = admin.get(f"/cppcc/meetings/{meeting_id}").text
    assert 'id="cp-raise-case"' in admin_page
    no_title = admin.post(
        f"/cppcc/meetings/{meeting_id}/cases/raise",
        data={"csrf_token": csrf_on(admin_page), **raise_fields, "title": ""},
        follow_redirects=False,
    )
    assert no_title.status_code == 422 and "请填写标题" in no_title.text
    assert 'value="梧州测试糖业有限公司"' in no_title.text
    made = admin.post(
        f"/cppcc/meetings/{meeting_id}/cases/raise",
        data={"csrf_token": csrf_on(admin_page), **raise_fields},
        follow_redirects=False,
    )
    assert made.status_code == 303
    with world.app.state.chainatlas.db.session() as session:
        case = session.scalars(select(Case).where(Case.title == "蔗糖仓储用地不足")).one()
        assert (case.source, case.raised_on, case.unit_id, case.state) == (
            "meeting",
            date(2025, 7, 15),
            world.units.unit_a,
            "assigned",
        )
        raised = case.id
    assert sorted(c for c in [existing, raised]) == sorted(
        link for link in _linked_cases(world, meeting_id)
    )


def _linked_cases(world: CppccWorld, meeting_id: int) -> list[int]:
    with world.app.state.chainatlas.db.session() as session:
        meeting = session.get(Consultation, meeting_id)
        assert meeting is not None
        return [c.case_id for c in meeting.cases]


def test_the_handling_report_of_the_previous_meeting(world: CppccWorld) -> None:
    """The previous counterpart consultation on sugarcane in 梧州 had two suggestions: 民革's,
    answered by 自然资源局 and in progress (60 %, a milestone), and 民盟's, assigned to 商务局
    and not answered yet. The next meeting's page and its report show both."""
    with world.app.state.chainatlas.db.session() as session:
        previous = consultations.create_consultation(
            session,
            SETUP,
            kind="counterpart",
            held_on=date(2024, 12, 10),
            topic="甘蔗制糖产业高质量发展",
            title="2024年第四次对口协商会",
            region_code="450400",
            chain_ids=[SCOPED_CHAIN],
        ).id
        first = submission_service.add_submission(
            session,
            SETUP,
            kind="suggestion",
            title="加快糖料蔗生产全程机械化",
            group="民革",
            consultation_id=previous,
            chain_id=SCOPED_CHAIN,
            units=[submission_service.HandlingIn(world.units.unit_a, lead=True)],
        )
        submission_service.answer(
            session,
            SETUP,
            first.handlings[0].id,
            expected_version=None,
            answer_text="已出台农机购置补贴办法，2025 年新增甘蔗收获机 40 台",
            answered_on=date(2025, 1, 20),
            answered_by="自然资源局 陈某",
        )
        results.update_result(
            session, SETUP, first.id, expected_version=None, status="in_progress", progress=60
        )
        results.add_milestone(
            session,
            SETUP,
            first.id,
            expected_version=None,
            reached_on=date(2025, 3, 1),
            title="首批收获机投入使用",
        )
        second = submission_service.add_submission(
            session,
            SETUP,
            kind="suggestion",
            title="拓展糖企产品销售渠道",
            group="民盟",
            member_id=world.members.li,
            consultation_id=previous,
            chain_id=SCOPED_CHAIN,
            units=[submission_service.HandlingIn(world.units.unit_b, deadline=date(2025, 3, 31))],
        )
        ids = (first.id, second.id)
    analyst = world.client("analyst")
    # other tests' meetings are topical: this pair is counterpart (对口协商)
    meeting_id = create_meeting(analyst, kind="counterpart", topic="甘蔗制糖产业对口协商")

    page = analyst.get(f"/cppcc/meetings/{meeting_id}").text
    report = page.split('id="handling-report"')[1]
    assert "2024年第四次对口协商会" in report and f'href="/cppcc/meetings/{previous}"' in report
    assert "共 2 条，已答复 1 条" in report and "正在落实 1 条" in report
    assert "已出台农机购置补贴办法，2025 年新增甘蔗收获机 40 台" in report
    assert "60%" in report and "2025-03-01 首批收获机投入使用" in report
    assert "民盟 / 李委员" in report and "商务局（协办" not in report
    assert "商务局（主办，待答复，期限 2025-03-31）" in report
    # the previous meeting's page lists the suggestions raised at it, with a way to add one
    earlier = analyst.get(f"/cppcc/meetings/{previous}").text
    listed = earlier.split('class="data cp-submissions"')[1].split("</table>")[0]
    assert all(f'href="/cppcc/submissions/{i}"' in listed for i in ids)
    assert (
        f'id="cp-add-submission" class="btn" href="/cppcc/submissions/new?consultation={previous}"'
        in earlier
    )

    printed = analyst.get(f"/cppcc/meetings/{meeting_id}/handling-report")
    assert printed.status_code == 200
    assert "已出台农机购置补贴办法" in printed.text and "拓展糖企产品销售渠道" in printed.text
    text = analyst.get(f"/cppcc/meetings/{meeting_id}/handling-report.txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.startswith("上一次意见建议办理情况\n")
    assert "答复（自然资源局）：已出台农机购置补贴办法" in text.text
    assert "落实情况：正在落实，进度 60%" in text.text
    docx = analyst.get(f"/cppcc/meetings/{meeting_id}/handling-report.docx")
    name = unquote(docx.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert name == "上一次意见建议办理情况-2025-07-15.docx"
    paragraphs = [p.text for p in Document(io.BytesIO(docx.content)).paragraphs]
    assert paragraphs[0] == "上一次意见建议办理情况"
    assert any("已出台农机购置补贴办法" in p for p in paragraphs)
    assert any(p.startswith("2. 【民盟 / 李委员】拓展糖企产品销售渠道") for p in paragraphs)
    analyst.get("/lang/en")
    english = analyst.get(f"/cppcc/meetings/{meeting_id}/handling-report.txt").text
    assert english.startswith("Handling of the suggestions of the previous meeting")
    assert "2 suggestions, 1 answered" in english
    analyst.get("/lang/zh")

    # the chain office of sugarcane sees it (its chain); the other chain's office does not
    office, nev = world.client("office"), world.client("nev_office")
    assert "已出台农机购置补贴办法" in office.get(f"/cppcc/meetings/{meeting_id}").text
    for suffix in ("", "/handling-report", "/handling-report.txt", "/handling-report.docx"):
        assert nev.get(f"/cppcc/meetings/{meeting_id}{suffix}").status_code == 403, suffix


class _FormReader(HTMLParser):
    """The fields a browser would post from one form: inputs (checkboxes and radios only when
    checked), the selected option of each select (else its first) and textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.options = a.get("name"), []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), []

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [v for v, on in self.options if on] or [v for v, _ in self.options[:1]]
            self.fields.append((self.select, chosen[0] if chosen else ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, "".join(self.text)))
            self.textarea = None


def posted_fields(page: str, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(page)
    fields: dict[str, list[str]] = {}
    for key, value in reader.fields:
        fields.setdefault(key, []).append(value)
    assert fields, f"no form #{form_id}"
    return fields


def cli_draft(path: Path, home: Path, published: str | None = None) -> dict[str, Any]:
    """`chainatlas intake FILE --format json`, as a user runs it."""
    command = [sys.executable, "-m", "chainatlas", "intake", str(path), "--format", "json"]
    if published:
        command += ["--published", published]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CHAINATLAS_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    draft: dict[str, Any] = json.loads(done.stdout)
    return draft


@pytest.mark.parametrize(
    ("sample", "how", "published"),
    [
        ("wuzhou_consultation_2025.txt", "paste", None),
        ("chuzhou_chain_dispatch.txt", "upload", "2025-05-30"),
    ],
)
def test_intake_of_the_samples_through_the_page(
    world: CppccWorld, tmp_path: Path, sample: str, how: str, published: str | None
) -> None:
    path = SAMPLES / sample
    expected = cli_draft(path, tmp_path, published)
    with world.app.state.chainatlas.db.session() as session:
        plan = plans.find_plan(session, 2025) or plans.create_plan(
            session, SETUP, 2025, topics=[plans.TopicIn("topical", "推动梧州产业延链补链强链")]
        )
        plan_topic = plan.topics[0].id
    analyst = world.client("analyst")
    entry = analyst.get("/cppcc/intake").text
    data = {"csrf_token": csrf_on(entry), "published": published or ""}
    if how == "paste":
        read = analyst.post("/cppcc/intake", data={**data, "text": path.read_text("utf-8")})
    else:
        read = analyst.post(
            "/cppcc/intake", data=data, files={"file": (sample, path.read_bytes(), "text/plain")}
        )
    assert read.status_code == 200, read.text[:1500]
    fields = posted_fields(read.text, "cp-intake-save")
    draft_day = expected["date"]["value"]
    assert fields["held_on"] == [draft_day or ""]
    assert fields["region_code"] == [expected["region"]["region_code"]]
    assert fields.get("chain_ids", []) == [c["chain_id"] for c in expected["chains"]]
    assert sorted(fields.get("groups", [])) == sorted(p["id"] for p in expected["participants"])
    names = [n for n in fields["leader_name"] if n]
    assert names == [x["name"] for x in expected["leaders"]]
    actions = read.text.split('id="cp-draft-actions"')[1].split("</ul>")[0]
    for action in expected["actions"]:
        assert f"×{action['count']}" in actions
    figures = read.text.split('id="cp-draft-figures"')[1].split("</table>")[0]
    for figure in expected["figures"]:
        assert f"<td>{figure['unit']}</td>" in figures

    before = count_meetings(world)
    if expected["kind"]["kind"] != "consultation":
        # read as a review meeting: the kind is left for the person to choose, and saving
        # without one names the field
        assert fields["kind"] == [""] and 'id="cp-draft-kind-note"' in read.text
        refused = analyst.post("/cppcc/intake/save", data=fields, follow_redirects=False)
        assert refused.status_code == 422 and "协商类型" in refused.text
        assert count_meetings(world) == before
        fields = posted_fields(refused.text, "cp-intake-save")
        fields["kind"] = ["other"]
        expected_kind = "other"
    else:
        expected_kind = expected["kind"]["consultation_kind"]
        assert fields["kind"] == [expected_kind]
        # the 2025 plan's topic of the same text is chosen for it
        assert fields["plan_topic_id"] == [str(plan_topic)]
    saved = analyst.post("/cppcc/intake/save", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:1500]
    meeting_id = int(saved.headers["location"].rsplit("/", 1)[1])
    meeting = meeting_of(world, meeting_id)
    assert meeting.held_on.isoformat() == draft_day
    assert meeting.kind == expected_kind
    assert meeting.chain_ids == [c["chain_id"] for c in expected["chains"]]
    assert meeting.region_code == expected["region"]["region_code"]
    spoke = {p["id"]: p["spoke"] for p in expected["participants"]}
    assert {g.group_id: g.spoke for g in meeting.groups} == spoke
    assert [x.name for x in meeting.leaders] == [x["name"] for x in expected["leaders"]]
    assert meeting.report_text.strip() == expected["text"].strip()
    same_topic = expected["topic"]["text"] == "推动梧州产业延链补链强链"
    assert meeting.plan_topic_id == (plan_topic if same_topic else None)
    assert count_meetings(world) == before + 1
    # the meeting's page follows: attendance can be recorded there
    page = analyst.get(saved.headers["location"]).text
    assert 'id="cp-attendance-form"' in page


def test_bad_reports_are_refused_and_nothing_is_saved(world: CppccWorld) -> None:
    analyst = world.client("analyst")
    token = csrf_on(analyst.get("/cppcc/intake").text)
    before = count_meetings(world)

    def upload(name: str, body: bytes) -> Any:
        return analyst.post(
            "/cppcc/intake",
            data={"csrf_token": token, "text": "保留的文字"},
            files={"file": (name, body, "application/octet-stream")},
        )

    # a web page saved as .html, with its navigation and footer, reads like the text
    body = (SAMPLES / "wuzhou_consultation_2025.txt").read_text("utf-8")
    paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines())
    html = (
        "<html><head><title>市委召开政党协商座谈会 - 梧州零距离网</title></head><body>"
        '<div class="top-nav"><a href="/">首页</a><a href="/news">新闻中心</a></div>'
        f"<div class='article'>{paragraphs}</div>"
        "<div class='footer'>版权所有 梧州日报社</div></body></html>"
    )
    page = upload("report.html", html.encode("gb18030"))
    assert page.status_code == 200
    assert posted_fields(page.text, "cp-intake-save")["held_on"] == ["2025-07-15"]
    assert "版权所有" not in page.text.split('class="card cp-source"')[1]

    pdf = upload("report.pdf", b"%PDF-1.7 ...")
    assert pdf.status_code == 422 and "不支持的文件类型 .pdf" in pdf.text
    assert "保留的文字" in pdf.text  # the pasted text is kept
    big = upload("big.txt", b"a" * (intake_service.MAX_BYTES + 1))
    assert big.status_code == 422 and "文件过大" in big.text
    png = upload("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert png.status_code == 422 and "这不是文本文件" in png.text
    empty = analyst.post("/cppcc/intake", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 422 and "报道文字" in empty.text
    bad_day = analyst.post(
        "/cppcc/intake", data={"csrf_token": token, "text": "会议", "published": "2025-13-01"}
    )
    assert bad_day.status_code == 422 and "发布日期「2025-13-01」格式不对" in bad_day.text
    analyst.get("/lang/en")
    english = upload("report.docx", b"PK\x03\x04")
    assert english.status_code == 422 and "unsupported file type .docx" in english.text
    analyst.get("/lang/zh")
    assert count_meetings(world) == before

    # only the CPPCC staff read reports and save drafts
    viewer = world.client("viewer")
    form = viewer.get("/cppcc/intake")
    assert form.status_code == 200 and "disabled" in form.text
    refused = viewer.post(
        "/cppcc/intake", data={"csrf_token": csrf_on(form.text), "text": "市政协召开专题协商会"}
    )
    assert refused.status_code == 403
    saved = viewer.post(
        "/cppcc/intake/save",
        data={"csrf_token": csrf_on(form.text), **meeting_fields()},
        follow_redirects=False,
    )
    assert saved.status_code == 403 and count_meetings(world) == before


# --- who may do what ----------------------------------------------------------------------
STAFF = ("admin", "analyst")
ROLES = ("admin", "analyst", "office", "nev_office", "unit_a", "zhang", "li", "viewer")
# the meetings each user may see: sugarcane's (A) hidden from the other chain's office, the
# other chain's (B) from sugarcane's office and member unit
SEES = {"A": set(ROLES) - {"nev_office"}, "B": set(ROLES) - {"office", "unit_a"}}
PLAN_READERS = {"admin", "analyst", "zhang", "li", "viewer"}


@pytest.fixture(scope="module")
def matrix_setting(world: CppccWorld) -> dict[str, int]:
    with world.app.state.chainatlas.db.session() as session:
        a = consultations.create_consultation(
            session,
            SETUP,
            kind="bimonthly",
            held_on=date(2025, 5, 20),
            topic="糖业双月协商",
            chain_ids=[SCOPED_CHAIN],
        ).id
        b = consultations.create_consultation(
            session,
            SETUP,
            kind="bimonthly",
            held_on=date(2025, 5, 21),
            topic="新能源汽车双月协商",
            chain_ids=[OTHER],
        ).id
        plan = plans.create_plan(
            session,
            SETUP,
            2031,
            topics=[plans.TopicIn("bimonthly", "糖业双月协商", SCOPED_CHAIN, 5)],
        )
        case = case_service.add_case(
            session,
            SETUP,
            title="糖企用电",
            source="member",
            category="energy",
            chain_id=SCOPED_CHAIN,
        ).id
        return {"A": a, "B": b, "topic": plan.topics[0].id, "case": case}


def expected_get(role: str, path: str, setting: dict[str, int]) -> int:
    if path.startswith(f"/cppcc/meetings/{setting['A']}"):
        return 200 if role in SEES["A"] else 403
    if path.startswith(f"/cppcc/meetings/{setting['B']}"):
        return 200 if role in SEES["B"] else 403
    if path.endswith(f"?chain={OTHER}"):
        return 403 if role in ("office", "unit_a") else 200
    if "plan_topic=" in path:
        return 200 if role in PLAN_READERS else 403
    return 200


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_meeting_route_answers_each_role_as_the_access_table_says(
    world: CppccWorld, matrix_setting: dict[str, int], role: str
) -> None:
    s = matrix_setting
    client = TestClient(world.app) if role == "anonymous" else world.client(role)
    gets = [
        "/cppcc/meetings",
        f"/cppcc/meetings?chain={OTHER}",
        "/cppcc/meetings/new",
        f"/cppcc/meetings/new?plan_topic={s['topic']}",
        "/cppcc/intake",
    ]
    for key in ("A", "B"):
        base = f"/cppcc/meetings/{s[key]}"
        gets += [base, f"{base}/edit", f"{base}/handling-report"]
        gets += [f"{base}/handling-report.txt", f"{base}/handling-report.docx"]
    wrong = []
    for path in gets:
        response = client.get(path, follow_redirects=False)
        if role == "anonymous":
            if response.status_code != 303 or not response.headers["location"].startswith("/login"):
                wrong.append(f"GET {path}: {response.status_code}")
        elif response.status_code != expected_get(role, path, s):
            wrong.append(f"GET {path}: {response.status_code}")
    if role != "anonymous":
        listing = client.get("/cppcc/meetings").text
        assert (f'href="/cppcc/meetings/{s["A"]}"' in listing) == (role in SEES["A"])
        assert (f'href="/cppcc/meetings/{s["B"]}"' in listing) == (role in SEES["B"])
        token = csrf_on(client.get("/cppcc/meetings").text)
    else:
        token = "none"

    a = s["A"]
    posts: list[tuple[str, dict[str, Any], int]] = [
        ("/cppcc/meetings", meeting_fields(topic=f"{role} 登记的会议"), 303),
        (f"/cppcc/meetings/{a}/edit", meeting_fields(topic="糖业双月协商", kind="bimonthly"), 303),
        (
            f"/cppcc/meetings/{a}/attendance",
            {"member_id": [str(world.members.wang)], "status": ["present"], "note": [role]},
            303,
        ),
        (f"/cppcc/meetings/{a}/cases/link", {"case_id": str(s["case"])}, 303),
        ("/cppcc/intake", {"text": "7月15日，市政协召开专题协商会。"}, 200),
        ("/cppcc/intake/save", meeting_fields(topic=f"{role} 录入的会议"), 303),
    ]
    raise_fields = {"title": f"{role} 提出的诉求", "chain_id": SCOPED_CHAIN, "category": "other"}
    before = audit_count(world)
    for path, data, allowed in [
        *posts,
        (f"/cppcc/meetings/{a}/cases/raise", raise_fields, 303),
    ]:
        response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        may = role == "admin" if path.endswith("/raise") else role in STAFF
        expected = 303 if role == "anonymous" else (allowed if may else 403)
        if response.status_code != expected:
            wrong.append(f"POST {path}: {response.status_code} {response.text[:200]}")
        elif role == "anonymous" and not response.headers["location"].startswith("/login"):
            wrong.append(f"POST {path}: not sent to log in")
    assert not wrong, wrong
    if role not in STAFF:
        assert audit_count(world) == before  # every refusal changed nothing


def audit_count(world: CppccWorld) -> int:
    with world.app.state.chainatlas.db.session() as session:
        return len(session.scalars(select(AuditEntry.id)).all())


def test_every_meeting_page_speaks_both_languages(
    world: CppccWorld, matrix_setting: dict[str, int]
) -> None:
    """No message key shows through untranslated, in Chinese or English."""
    admin = world.client("admin")
    a = matrix_setting["A"]
    entry = admin.get("/cppcc/intake").text
    pages = [
        "/cppcc/meetings",
        "/cppcc/meetings/new",
        f"/cppcc/meetings/{a}",
        f"/cppcc/meetings/{a}/edit",
        f"/cppcc/meetings/{a}/handling-report",
        "/cppcc/intake",
    ]
    for lang, sample in (("zh", "协商会议"), ("en", "Consultations")):
        admin.get(f"/lang/{lang}")
        for path in pages:
            response = admin.get(path)
            assert response.status_code == 200, (lang, path)
            assert "cpm_" not in response.text and "cp_tab" not in response.text, (lang, path)
            assert sample in response.text, (lang, path)
        draft = admin.post(
            "/cppcc/intake",
            data={
                "csrf_token": csrf_on(entry),
                "text": (SAMPLES / "chuzhou_chain_dispatch.txt").read_text("utf-8"),
            },
        )
        assert draft.status_code == 200 and "cpm_" not in draft.text
    assert "The draft reads as a review meeting" in draft.text
    admin.get("/lang/zh")
