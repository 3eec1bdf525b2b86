"""意见建议 pages: every route × every role as the access table (workflow/access.py ACCESS)
implies; meeting → suggestion → handling units → answers → result and milestones through
the pages; field errors named in Chinese and English with the typed values kept; a stale
edit is a 409 that changes nothing; merge and split with the history visible on every
record involved; overdue answers in red; the filters, counts, paging and the XLSX export."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN, login
from tests.web.cppcc_world import CppccWorld, make_cppcc_world
from tests.web.workflow_world import OTHER, csrf_on

from chainatlas.cppcc import consultations
from chainatlas.cppcc import suggestions as service
from chainatlas.cppcc.models import Submission, SubmissionChange
from chainatlas.db.audit import AuditEntry
from chainatlas.settings import Settings
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today

SETUP = Actor.system("setup")
USERS = ("admin", "analyst", "office", "nev_office", "unit_a", "unit_b", "zhang", "li", "viewer")
STAFF = {"admin", "analyst"}
TODAY = local_today()


@pytest.fixture(scope="module")
def cw(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CppccWorld:
    return make_cppcc_world(tmp_path_factory.mktemp("cpsubs"), web_settings, PASSWORD)


@pytest.fixture(scope="module")
def clients(cw: CppccWorld) -> Iterator[dict[str, TestClient]]:
    made = {name: cw.client(name) for name in USERS}
    made["anonymous"] = TestClient(cw.app)
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def meeting(cw: CppccWorld) -> int:
    with cw.world.state.db.session() as session:
        return consultations.create_consultation(
            session,
            SETUP,
            kind="topical",
            held_on=TODAY - timedelta(days=30),
            topic="甘蔗产业延链补链专题协商",
            chain_ids=[SCOPED_CHAIN],
            groups=["民革", "民盟"],
        ).id


def add(cw: CppccWorld, title: str, **values: Any) -> int:
    """A submission registered by the staff (sugarcane, raised by 民革 unless told)."""
    units = values.pop("units", ())
    fields = {"kind": "suggestion", "group": "民革", "chain_id": SCOPED_CHAIN} | values
    with cw.world.state.db.session() as session:
        submission = service.add_submission(session, SETUP, title=title, **fields)
        if units:
            service.assign_units(session, SETUP, submission.id, units, expected_version=None)
        return submission.id


def unit(unit_id: int, days: int = 20, lead: bool = False) -> service.HandlingIn:
    return service.HandlingIn(unit_id, lead=lead, deadline=TODAY + timedelta(days=days))


def row(cw: CppccWorld, submission_id: int) -> Submission:
    with cw.world.state.db.session() as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        for handling in found.handlings:
            _ = handling.unit.name
        session.expunge_all()
        return found


def handling_id(cw: CppccWorld, submission_id: int, unit_id: int) -> int:
    return next(h.id for h in row(cw, submission_id).handlings if h.unit_id == unit_id)


def form_version(page: str, form_id: str) -> str:
    """The version the form with `form_id` carries."""
    found = re.search(rf'id="{form_id}".*?name="version" value="(\d+)"', page, re.S)
    assert found is not None, f"no form {form_id} on the page"
    return found.group(1)


def submit(client: TestClient, submission_id: int, action: str, form_id: str, **fields: Any) -> Any:
    """Load the record page, post the form `form_id` to `action` with its version."""
    page = client.get(f"/cppcc/submissions/{submission_id}").text
    data: dict[str, Any] = {"csrf_token": csrf_on(page), "version": form_version(page, form_id)}
    data.update(fields)
    return client.post(
        f"/cppcc/submissions/{submission_id}/{action}", data=data, follow_redirects=False
    )


def post_as(client: TestClient, path: str, version: int | None = None, /, **fields: Any) -> Any:
    """A post with the session's CSRF token and a version given (for the refused roles,
    whose pages carry no such form)."""
    token = csrf_on(client.get("/cppcc/submissions").text)
    data: dict[str, Any] = {"csrf_token": token, **fields}
    if version is not None:
        data["version"] = str(version)
    return client.post(path, data=data, follow_redirects=False)


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="sub-(\d+)"', page)]


# --- the access matrix ------------------------------------------------------------------
def test_who_reads_what(cw: CppccWorld, clients: dict[str, TestClient]) -> None:
    sugar = add(cw, "甘蔗良种补贴", units=[unit(cw.units.unit_a)])
    sugar_only = add(cw, "糖厂环保技改（未交办）")
    nev = add(cw, "充电桩布局", chain_id=OTHER, units=[unit(cw.units.nev_office)])
    nev_for_unit_a = add(cw, "新能源汽车用地", chain_id=OTHER, units=[unit(cw.units.unit_a)])
    sees = {
        # (record) → roles that may view it: the staff, members and viewers read everything;
        # the handling roles their chains' records and those assigned to their unit
        sugar: set(USERS) - {"nev_office"},
        sugar_only: set(USERS) - {"nev_office"},
        nev: STAFF | {"nev_office", "zhang", "li", "viewer"},
        nev_for_unit_a: STAFF | {"nev_office", "unit_a", "zhang", "li", "viewer"},
    }
    wrong = []
    for name in USERS:
        client = clients[name]
        listing = client.get("/cppcc/submissions")
        assert listing.status_code == 200, name
        shown = set(listed_ids(listing.text))
        for record, allowed in sees.items():
            status = client.get(f"/cppcc/submissions/{record}").status_code
            expected = 200 if name in allowed else 403
            if status != expected:
                wrong.append(f"{name} GET #{record}: {status}, expected {expected}")
            if (record in shown) != (name in allowed):
                wrong.append(f"{name} list shows #{record}: {record in shown}")
        for path in ("/cppcc/submissions/new", "/cppcc/submissions.xlsx"):
            if client.get(path).status_code != 200:
                wrong.append(f"{name} GET {path}")
    assert not wrong, "\n".join(wrong)
    # a scoped role asking for another chain is refused; the anonymous visitor logs in
    assert clients["office"].get(f"/cppcc/submissions?chain={OTHER}").status_code == 403
    assert (
        clients["nev_office"].get(f"/cppcc/submissions.xlsx?chain={SCOPED_CHAIN}").status_code
        == 403
    )
    assert clients["office"].get(f"/cppcc/submissions/new?chain={OTHER}").status_code == 403
    for path in (
        "/cppcc/submissions",
        "/cppcc/submissions.xlsx",
        "/cppcc/submissions/new",
        f"/cppcc/submissions/{sugar}",
    ):
        response = clients["anonymous"].get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    h_a = handling_id(cw, sugar, cw.units.unit_a)
    for action in (
        "edit",
        "assign",
        f"units/{cw.units.unit_a}/remove",
        f"handlings/{h_a}/answer",
        "result",
        "milestones",
        "merge",
        "split",
    ):
        response = clients["anonymous"].post(
            f"/cppcc/submissions/{sugar}/{action}", data={"version": "1"}, follow_redirects=False
        )
        assert response.status_code == 303, action
        assert response.headers["location"].startswith("/login"), action
    created = clients["anonymous"].post("/cppcc/submissions", data={}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"].startswith("/login")


def test_who_registers(cw: CppccWorld, clients: dict[str, TestClient], meeting: int) -> None:
    """The staff register any submission, a member only its own; the others are refused."""
    members = cw.members
    may = {"admin", "analyst", "zhang", "li"}
    own = {"zhang": members.zhang, "li": members.li}
    wrong = []
    for name in USERS:
        client = clients[name]
        form = client.get("/cppcc/submissions/new").text
        disabled = re.search(r'<button class="btn primary" type="submit" disabled>', form)
        if (disabled is None) != (name in may):
            wrong.append(f"{name}: the form's button disabled={disabled is not None}")
        fields = {
            "kind": "proposal",
            "title": f"{name} 的提案",
            "consultation_id": str(meeting),
            "chain_id": SCOPED_CHAIN,
            "member_id": str(own.get(name, members.wang)),
        }
        response = post_as(client, "/cppcc/submissions", **fields)
        expected = 303 if name in may else 403
        if response.status_code != expected:
            wrong.append(f"{name} POST: {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    # a meeting on a chain the role does not see is not offered to it
    with_meeting = f"/cppcc/submissions/new?consultation={meeting}"
    assert clients["nev_office"].get(with_meeting).status_code == 403
    assert clients["office"].get(with_meeting).status_code == 200
    # a member registers its own proposal, never another member's, nor for a party alone
    before = len(row_ids(cw))
    li_for_zhang = {"kind": "proposal", "title": "代张委员提交", "member_id": str(members.zhang)}
    assert post_as(clients["li"], "/cppcc/submissions", **li_for_zhang).status_code == 403
    assert len(row_ids(cw)) == before
    # the member's own account is its proposer, without choosing
    page = clients["zhang"].get("/cppcc/submissions/new").text
    assert 'id="cps-own-member">张委员（民革）' in page
    created = post_as(
        clients["zhang"],
        "/cppcc/submissions",
        kind="proposal",
        title="关于建设糖业循环经济园的提案",
        co_signers=[str(members.li), str(members.wang)],
    )
    assert created.status_code == 303
    record = row(cw, int(created.headers["location"].rsplit("/", 1)[1]))
    assert record.member_id == members.zhang and record.created_by == "zhang"
    assert [s.member_id for s in record.signers] == [members.li, members.wang]
    assert record.consultation_id is None  # nothing pre-linked without ?consultation=


def row_ids(cw: CppccWorld) -> list[int]:
    with cw.world.state.db.session() as session:
        return list(session.scalars(select(Submission.id)))


def expect(
    cw: CppccWorld,
    clients: dict[str, TestClient],
    allowed: set[str],
    attempt: Any,
) -> list[str]:
    """Each user tries `attempt(client, fresh submission id, handling ids)` on a submission
    of its own: the allowed get 303, the others 403 and the submission is unchanged."""
    wrong = []
    for name in USERS:
        submission_id = add(
            cw,
            f"{name} 试办",
            units=[unit(cw.units.unit_a, lead=True), unit(cw.units.unit_b)],
        )
        before = row(cw, submission_id)
        response = attempt(clients[name], submission_id, before)
        expected = 303 if name in allowed else 403
        if response.status_code != expected:
            wrong.append(f"{name}: {response.status_code}, expected {expected}")
        after = row(cw, submission_id)
        if expected == 403 and (after.version, after.state) != (before.version, before.state):
            wrong.append(f"{name}: refused, yet the submission changed")
        if expected == 303 and after.version == before.version:
            wrong.append(f"{name}: allowed, yet nothing changed")
    return wrong


def test_who_changes_what(cw: CppccWorld, clients: dict[str, TestClient]) -> None:
    """The staff do everything; a handling unit answers and reports progress on what its unit
    handles; chain offices of the chain, other units, members and viewers change nothing."""
    path = "/cppcc/submissions/{}/{}"
    deadline = (TODAY + timedelta(days=9)).isoformat()

    def merge_one(client: TestClient, record: int, seen: Submission) -> Any:
        source = add(cw, "并案来源")
        picked = f"{source}:{row(cw, source).version}"
        return post_as(client, path.format(record, "merge"), seen.version, sources=[picked])

    handlers = STAFF | {"unit_a"}
    cases: dict[str, tuple[set[str], Any]] = {
        "edit": (
            STAFF,
            lambda c, i, s: post_as(
                c, path.format(i, "edit"), s.version, title="改过的标题", group="rcck"
            ),
        ),
        "assign": (
            STAFF,
            lambda c, i, s: post_as(
                c,
                path.format(i, "assign"),
                s.version,
                unit_id=[str(cw.units.office)],
                deadline=[deadline],
            ),
        ),
        "remove": (
            STAFF,
            lambda c, i, s: post_as(
                c, path.format(i, f"units/{cw.units.unit_b}/remove"), s.version
            ),
        ),
        "answer unit_a": (
            handlers,
            lambda c, i, s: post_as(
                c,
                path.format(i, f"handlings/{handling_id(cw, i, cw.units.unit_a)}/answer"),
                s.handlings[0].version,
                answer="已研究办理",
            ),
        ),
        "answer unit_b": (
            STAFF | {"unit_b"},
            lambda c, i, s: post_as(
                c,
                path.format(i, f"handlings/{handling_id(cw, i, cw.units.unit_b)}/answer"),
                s.handlings[1].version,
                answer="已研究办理",
            ),
        ),
        "result": (
            handlers | {"unit_b"},
            lambda c, i, s: post_as(
                c, path.format(i, "result"), s.version, status="in_progress", progress="30"
            ),
        ),
        "milestone": (
            handlers | {"unit_b"},
            lambda c, i, s: post_as(
                c,
                path.format(i, "milestones"),
                s.version,
                reached_on=TODAY.isoformat(),
                title="召开对接会",
            ),
        ),
        "merge": (STAFF, merge_one),
        "split": (
            STAFF,
            lambda c, i, s: post_as(
                c, path.format(i, "split"), s.version, part_title=["第一部分", "第二部分"]
            ),
        ),
    }
    wrong = []
    for action, (allowed, attempt) in cases.items():
        wrong += [f"{action} {w}" for w in expect(cw, clients, allowed, attempt)]
    assert not wrong, "\n".join(wrong)


def test_a_member_corrects_its_own_submission_until_it_is_handed_to_units(
    cw: CppccWorld, clients: dict[str, TestClient]
) -> None:
    """ACCESS gives a CPPCC member `edit: own` on submissions: its own, while registered,
    without the staff's number and party/sector; never another member's."""
    zhang_s = add(cw, "张委员的提案", kind="proposal", group="", member_id=cw.members.zhang)
    li_s = add(cw, "李委员的提案", kind="proposal", group="", member_id=cw.members.li)
    page = clients["zhang"].get(f"/cppcc/submissions/{li_s}").text
    assert 'id="cps-edit"' not in page
    version = row(cw, li_s).version
    refused = post_as(clients["zhang"], f"/cppcc/submissions/{li_s}/edit", version, title="改")
    assert refused.status_code == 403 and "无权" in refused.text
    assert row(cw, li_s).version == version
    # its own, registered: the form without number and party/sector, and the change kept
    page = clients["zhang"].get(f"/cppcc/submissions/{zhang_s}").text
    assert 'id="cps-edit"' in page and "编号和提出的党派或界别由政协工作人员登记" in page
    assert 'name="number"' not in page.split('id="cps-edit"')[1].split("</details>")[0]
    done = submit(clients["zhang"], zhang_s, "edit", "cps-edit", title="张委员的提案（修订）")
    assert done.status_code == 303
    assert row(cw, zhang_s).title == "张委员的提案（修订）"
    assert "张委员的提案（修订）" in clients["analyst"].get(f"/cppcc/submissions/{zhang_s}").text
    # handed to a unit: no form, and a post is refused with the reason, nothing changed
    with cw.world.state.db.session() as session:
        service.assign_units(
            session, SETUP, zhang_s, [unit(cw.units.unit_a)], expected_version=None
        )
    page = clients["zhang"].get(f"/cppcc/submissions/{zhang_s}").text
    assert 'id="cps-edit"' not in page
    version = row(cw, zhang_s).version
    late = post_as(clients["zhang"], f"/cppcc/submissions/{zhang_s}/edit", version, title="再改")
    assert late.status_code == 422 and "已交办理单位办理" in late.text
    assert row(cw, zhang_s).title == "张委员的提案（修订）"
    # the viewer reads it all and is offered nothing
    page = clients["viewer"].get(f"/cppcc/submissions/{li_s}").text
    assert "李委员的提案" in page and '<form method="post" action="/cppcc' not in page


# --- meeting → suggestion → handling → answer → result --------------------------------------
def test_from_the_meeting_to_the_result(
    cw: CppccWorld, clients: dict[str, TestClient], meeting: int
) -> None:
    zhang, analyst = clients["zhang"], clients["analyst"]
    unit_a, unit_b, office = clients["unit_a"], clients["unit_b"], clients["office"]
    form = zhang.get(f"/cppcc/submissions/new?consultation={meeting}").text
    assert "甘蔗产业延链补链专题协商" in form.split('id="cps-from-meeting"')[1][:200]
    assert f'<option value="{meeting}" selected>' in form
    assert f'<option value="{SCOPED_CHAIN}" selected>' in form  # the meeting's chain
    created = zhang.post(
        "/cppcc/submissions",
        data={
            "csrf_token": csrf_on(form),
            "kind": "suggestion",
            "title": "设立甘蔗产业链专项扶持资金",
            "content": "建议市财政每年安排专项资金支持糖企技改。",
            "consultation_id": str(meeting),
            "chain_id": SCOPED_CHAIN,
            "member_id": str(cw.members.zhang),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    record_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = analyst.get(f"/cppcc/submissions/{record_id}").text
    assert "已登记" in page and f'href="/cppcc/meetings/{meeting}"' in page
    assert 'id="cps-raised-by">张委员（民革）' in page
    assert row(cw, record_id).raised_on == TODAY - timedelta(days=30)  # the meeting's day

    lead_deadline = (TODAY + timedelta(days=30)).isoformat()
    co_deadline = (TODAY + timedelta(days=20)).isoformat()
    assigned = submit(
        analyst,
        record_id,
        "assign",
        "cps-assign",
        unit_id=[str(cw.units.unit_a), str(cw.units.unit_b), ""],
        deadline=[lead_deadline, co_deadline, ""],
        lead="1",
    )
    assert assigned.status_code == 303
    handlings = {h.unit_id: h for h in row(cw, record_id).handlings}
    assert handlings[cw.units.unit_a].lead and not handlings[cw.units.unit_b].lead
    assert str(handlings[cw.units.unit_b].deadline) == co_deadline
    h_a, h_b = handlings[cw.units.unit_a].id, handlings[cw.units.unit_b].id

    # each unit is offered the answer form for its own handling only
    page_a = unit_a.get(f"/cppcc/submissions/{record_id}").text
    assert f'id="cps-answer-{h_a}"' in page_a and f'id="cps-answer-{h_b}"' not in page_a
    assert 'id="cps-assign"' not in page_a and 'id="cps-merge"' not in page_a
    page_b = unit_b.get(f"/cppcc/submissions/{record_id}").text
    assert f'id="cps-answer-{h_b}"' in page_b and f'id="cps-answer-{h_a}"' not in page_b
    page_office = office.get(f"/cppcc/submissions/{record_id}").text
    assert "cps-answer-" not in page_office and 'id="cps-result-form"' not in page_office

    answer_a = "已会同财政局研究，拟于 2026 年设立 2000 万元专项资金。"
    assert (
        submit(
            unit_a,
            record_id,
            f"handlings/{h_a}/answer",
            f"cps-answer-{h_a}",
            answer=answer_a,
            answered_by="局长 陈明",
        ).status_code
        == 303
    )
    assert row(cw, record_id).state == "assigned"  # 商务局 has not answered yet
    assert (
        submit(
            unit_b,
            record_id,
            f"handlings/{h_b}/answer",
            f"cps-answer-{h_b}",
            answer="配合做好糖企技改项目储备。",
        ).status_code
        == 303
    )
    assert row(cw, record_id).state == "answered"

    tracked = submit(
        analyst,
        record_id,
        "result",
        "cps-result-form",
        status="in_progress",
        progress="40",
        result="专项资金方案已报市政府常务会审议。",
    )
    assert tracked.status_code == 303
    milestone = submit(
        analyst,
        record_id,
        "milestones",
        "cps-milestone-form",
        reached_on=TODAY.isoformat(),
        title="市政府常务会审议通过资金方案",
        description="首批 800 万元下达。",
        progress="60",
    )
    assert milestone.status_code == 303

    page = analyst.get(f"/cppcc/submissions/{record_id}").text
    assert "已答复" in page and answer_a in page and "局长 陈明" in page
    result = page.split('id="cps-result"')[1].split('id="cps-history"')[0]
    assert "正在落实" in result and 'id="cps-progress">60%' in result
    assert 'style="width: 60.0%"' in result
    assert "专项资金方案已报市政府常务会审议" in result
    assert "市政府常务会审议通过资金方案" in result and "首批 800 万元下达" in result
    history = page.split('id="cps-history"')[1]
    for label in ("登记", "交办", "答复", "更新落实情况", "落实节点"):
        assert label in history, label
    assert history.count("cps-hist-answer") == 2
    assert "自然资源局（主办）" in history and lead_deadline in history
    for who in ("zhang", "analyst", "unit_a", "unit_b"):
        assert f"<td>{who}</td>" in history, who
    with cw.world.state.db.session() as session:
        actions = session.scalars(
            select(SubmissionChange.action)
            .where(SubmissionChange.submission_id == record_id)
            .order_by(SubmissionChange.id)
        ).all()
        audited = set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == f"submission:{record_id}")
            )
        )
    assert actions == ["create", "assign", "answer", "answer", "track", "milestone"]
    assert {"cppcc.submission.add", "cppcc.submission.answer"} <= audited

    # the list shows it answered, with its result; English comes from the catalogue
    listing = analyst.get(f"/cppcc/submissions?consultation={meeting}&state=answered").text
    assert record_id in listed_ids(listing)
    assert "正在落实 · 60%" in listing
    english = login(TestClient(cw.app), "analyst")
    english.get("/lang/en")
    page = english.get(f"/cppcc/submissions/{record_id}").text
    assert "Handling units and answers" in page and "in progress" in page
    english.close()


# --- form errors, conflicts ---------------------------------------------------------------
def test_form_errors_name_the_field_and_keep_the_values(
    cw: CppccWorld, clients: dict[str, TestClient], meeting: int
) -> None:
    analyst = clients["analyst"]
    typed = {
        "kind": "opinion_report",
        "title": "",
        "content": "蔗农反映收购价偏低，保底价执行不到位。",
        "group": "cdl",
        "consultation_id": str(meeting),
        "chain_id": SCOPED_CHAIN,
    }
    before = len(row_ids(cw))
    missing = post_as(analyst, "/cppcc/submissions", **typed)
    assert missing.status_code == 422 and "请填写标题" in missing.text
    assert "蔗农反映收购价偏低，保底价执行不到位。</textarea>" in missing.text
    assert '<option value="opinion_report" selected>' in missing.text
    assert '<option value="cdl" selected>' in missing.text
    bad_day = post_as(analyst, "/cppcc/submissions", **(typed | {"title": "t", "raised_on": "5月"}))
    assert bad_day.status_code == 422 and "「提出日期」无效" in bad_day.text
    nobody = post_as(analyst, "/cppcc/submissions", **(typed | {"title": "t", "group": ""}))
    assert nobody.status_code == 422 and "请填写提出者" in nobody.text
    signed = post_as(
        analyst,
        "/cppcc/submissions",
        **(typed | {"title": "t", "co_signers": [str(cw.members.li)]}),
    )
    assert signed.status_code == 422 and "只有提案可以联名" in signed.text
    assert len(row_ids(cw)) == before

    record_id = add(cw, "表单错误测试", units=[unit(cw.units.unit_a)])
    bad_progress = submit(
        analyst,
        record_id,
        "result",
        "cps-result-form",
        status="in_progress",
        progress="120",
        result="已完成调研报告。",
    )
    assert bad_progress.status_code == 422
    assert "「落实进度」应在 0 到 100 之间" in bad_progress.text
    kept = bad_progress.text.split('id="cps-result-form"')[1]
    assert "已完成调研报告。</textarea>" in kept and 'value="120"' in kept
    done_at_half = submit(
        analyst, record_id, "result", "cps-result-form", status="done", progress="50"
    )
    assert done_at_half.status_code == 422 and "已落实" in done_at_half.text
    no_unit = submit(
        analyst,
        record_id,
        "assign",
        "cps-assign",
        unit_id=["", ""],
        deadline=["", (TODAY + timedelta(days=5)).isoformat()],
    )
    assert no_unit.status_code == 422 and "第 2 行：请选择承办单位" in no_unit.text
    early = submit(
        analyst,
        record_id,
        "milestones",
        "cps-milestone-form",
        reached_on="2001-01-01",
        title="太早的节点",
    )
    assert early.status_code == 422 and "节点日期" in early.text
    assert 'value="太早的节点"' in early.text.split('id="cps-milestone-form"')[1]
    assert row(cw, record_id).status == "planned" and row(cw, record_id).milestones == []

    # the same messages in English name the field there
    english = login(TestClient(cw.app), "analyst")
    english.get("/lang/en")
    refused = post_as(english, "/cppcc/submissions", **typed)
    assert refused.status_code == 422 and "title is required" in refused.text
    bad = submit(english, record_id, "result", "cps-result-form", progress="x")
    assert bad.status_code == 422 and "&#39;progress&#39;: x is not a number" in bad.text
    english.close()


def test_a_stale_edit_is_a_conflict_and_keeps_the_first(
    cw: CppccWorld, clients: dict[str, TestClient]
) -> None:
    first, second = clients["analyst"], clients["admin"]
    record_id = add(cw, "原标题", units=[unit(cw.units.unit_a)])
    page_1 = first.get(f"/cppcc/submissions/{record_id}").text
    page_2 = second.get(f"/cppcc/submissions/{record_id}").text
    version = form_version(page_1, "cps-edit")
    assert version == form_version(page_2, "cps-edit")

    def edit(client: TestClient, page: str, title: str) -> Any:
        return client.post(
            f"/cppcc/submissions/{record_id}/edit",
            data={
                "csrf_token": csrf_on(page),
                "version": version,
                "title": title,
                "group": "rcck",
                "chain_id": SCOPED_CHAIN,
            },
            follow_redirects=False,
        )

    assert edit(first, page_1, "第一次修改的标题").status_code == 303
    stale = edit(second, page_2, "被覆盖的标题")
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert 'value="被覆盖的标题"' in stale.text  # what was typed, to copy from
    assert row(cw, record_id).title == "第一次修改的标题"
    # the page shown with the conflict carries the current version to retry from
    assert form_version(stale.text, "cps-assign") == str(row(cw, record_id).version)
    # the same for the result and for an answer given from a stale page
    result = second.post(
        f"/cppcc/submissions/{record_id}/result",
        data={"csrf_token": csrf_on(page_2), "version": version, "progress": "90"},
        follow_redirects=False,
    )
    assert result.status_code == 409 and row(cw, record_id).progress == 0
    unit_page = clients["unit_a"].get(f"/cppcc/submissions/{record_id}").text
    h_a = handling_id(cw, record_id, cw.units.unit_a)
    stale_answer = {"csrf_token": csrf_on(unit_page), "answer": "第一份答复"}
    stale_answer["version"] = form_version(unit_page, f"cps-answer-{h_a}")
    path = f"/cppcc/submissions/{record_id}/handlings/{h_a}/answer"
    assert (
        clients["unit_a"].post(path, data=stale_answer, follow_redirects=False).status_code == 303
    )
    again = clients["unit_a"].post(
        path, data=stale_answer | {"answer": "第二份答复"}, follow_redirects=False
    )
    assert again.status_code == 409
    assert row(cw, record_id).handlings[0].answer == "第一份答复"


# --- merge and split ------------------------------------------------------------------------
def test_merge_and_split_keep_the_history_on_every_record(
    cw: CppccWorld, clients: dict[str, TestClient], meeting: int
) -> None:
    analyst = clients["analyst"]
    target = add(cw, "加快糖业技改", consultation_id=meeting)
    source_1 = add(cw, "支持糖企设备更新", consultation_id=meeting, units=[unit(cw.units.unit_b)])
    source_2 = add(cw, "糖厂节能改造补助", consultation_id=meeting)
    elsewhere = add(cw, "糖企用电成本偏高（会外提出）")
    page = analyst.get(f"/cppcc/submissions/{target}").text
    picks = re.findall(r'name="sources" value="((\d+):\d+)"', page)
    # those of the same meeting are offered; another is given by its number
    offered = {int(ident) for _value, ident in picks}
    assert {source_1, source_2} <= offered and elsewhere not in offered
    chosen = [value for value, ident in picks if int(ident) in (source_1, source_2)]
    merged = submit(
        analyst,
        target,
        "merge",
        "cps-merge",
        sources=chosen,
        others=f"#{elsewhere}",
        note="内容相近，并案办理",
    )
    assert merged.status_code == 303
    assert row(cw, elsewhere).merged_into_id == target

    for source in (source_1, source_2):
        page = analyst.get(f"/cppcc/submissions/{source}").text
        note = page.split('id="cps-merged-into"')[1].split("</p>")[0]
        assert f'href="/cppcc/submissions/{target}">#{target}' in note
        assert "已并案" in page and 'id="cps-assign"' not in page  # closed: nothing to do
        history = page.split('id="cps-history"')[1]
        assert "cps-hist-merge" in history and "内容相近，并案办理" in history
    listing = analyst.get(f"/cppcc/submissions?consultation={meeting}&state=merged").text
    assert {source_1, source_2} <= set(listed_ids(listing))
    assert f"已并入 #{target}" in listing
    page = analyst.get(f"/cppcc/submissions/{target}").text
    sources_note = page.split('id="cps-sources"')[1].split("</p>")[0]
    assert f"#{source_1} 支持糖企设备更新" in sources_note and f"#{source_2}" in sources_note
    merge_in = page.split('class="cps-hist-merge_in"')[1].split("</tr>")[0]
    assert f'href="/cppcc/submissions/{source_1}"' in merge_in
    # a closed record takes no more changes, even posted
    refused = post_as(
        analyst,
        f"/cppcc/submissions/{source_1}/assign",
        row(cw, source_1).version,
        unit_id=[str(cw.units.unit_a)],
    )
    assert refused.status_code == 422 and f"已并入 #{target}" in refused.text

    deadline = (TODAY + timedelta(days=15)).isoformat()
    split = submit(
        analyst,
        target,
        "split",
        "cps-split",
        part_title=["糖企设备更新补助", "", "节能改造专项"],
        part_content=["按设备投资额 10% 补助", "", ""],
        part_chain=["", "", ""],
        part_unit=[str(cw.units.unit_a), "", ""],
        part_deadline=[deadline, "", ""],
        note="分别由不同部门办理",
    )
    assert split.status_code == 303
    page = analyst.get(f"/cppcc/submissions/{target}").text
    assert "已拆分" in page
    parts_note = page.split('id="cps-parts"')[1].split("</p>")[0]
    part_ids = [int(i) for i in re.findall(r'href="/cppcc/submissions/(\d+)"', parts_note)]
    assert len(part_ids) == 2
    first, second = (row(cw, i) for i in part_ids)
    assert (first.title, second.title) == ("糖企设备更新补助", "节能改造专项")
    assert [h.unit_id for h in first.handlings] == [cw.units.unit_a] and not second.handlings
    assert str(first.handlings[0].deadline) == deadline and first.state == "assigned"
    history = page.split('id="cps-history"')[1]
    for event in ("cps-hist-merge_in", "cps-hist-split"):
        assert event in history
    for part_id in part_ids:
        part = analyst.get(f"/cppcc/submissions/{part_id}").text
        assert (
            f'href="/cppcc/submissions/{target}">#{target}' in part.split('id="cps-split-from"')[1]
        )
        assert "分别由不同部门办理" in part.split('id="cps-history"')[1]
    # the merged source still shows where it went, and its own answer-less history
    page = analyst.get(f"/cppcc/submissions/{source_1}").text
    assert f"#{target}" in page.split('id="cps-merged-into"')[1].split("</p>")[0]


# --- overdue answers ------------------------------------------------------------------------
def test_overdue_answers_are_red(cw: CppccWorld, clients: dict[str, TestClient]) -> None:
    raised = TODAY - timedelta(days=40)
    late = add(
        cw, "督办测试：蔗区道路硬化", raised_on=raised, units=[unit(cw.units.unit_b, days=-12)]
    )
    calm = add(cw, "督办测试：糖业人才公寓", units=[unit(cw.units.unit_b, days=10)])
    office = clients["office"]
    listing = office.get("/cppcc/submissions?q=督办测试").text
    assert set(listed_ids(listing)) == {late, calm}
    late_row = re.search(rf'<tr id="sub-{late}" class="([^"]*)">(.*?)</tr>', listing, re.S)
    assert late_row is not None and "wf-red" in late_row.group(1)
    assert "答复逾期 12 天" in late_row.group(2)
    calm_row = re.search(rf'<tr id="sub-{calm}" class="([^"]*)"', listing)
    assert calm_row is not None and "wf-red" not in calm_row.group(1)
    only = office.get("/cppcc/submissions?overdue=1").text
    assert late in listed_ids(only) and calm not in listed_ids(only)

    page = office.get(f"/cppcc/submissions/{late}").text
    assert "最长已逾期 12 天" in page.split('id="cps-overdue"')[1].split("</p>")[0]
    handling = re.search(r'<tr id="handling-\d+" class="([^"]*)"', page)
    assert handling is not None and "wf-red" in handling.group(1)
    # answered, it is no longer red
    h_b = handling_id(cw, late, cw.units.unit_b)
    answered = submit(
        clients["unit_b"], late, f"handlings/{h_b}/answer", f"cps-answer-{h_b}", answer="已列入计划"
    )
    assert answered.status_code == 303
    assert 'id="cps-overdue"' not in office.get(f"/cppcc/submissions/{late}").text
    assert late not in listed_ids(office.get("/cppcc/submissions?overdue=1").text)


# --- the list: filters, counts, paging, XLSX ------------------------------------------------
def test_filters_counts_paging_and_the_xlsx_export(
    cw: CppccWorld, clients: dict[str, TestClient]
) -> None:
    analyst = clients["analyst"]
    word = "蔗渣综合利用"
    made = [add(cw, f"{word}建议 {n}") for n in range(53)]
    last_year = date(TODAY.year - 1, 6, 1)
    old = add(cw, f"{word}（去年）", raised_on=last_year, units=[unit(cw.units.unit_a)])
    proposal = add(cw, f"{word}提案", kind="proposal", group="", member_id=cw.members.li)
    report = add(cw, f"{word}社情民意", kind="opinion_report", chain_id=OTHER)

    page_1 = analyst.get(f"/cppcc/submissions?q={word}").text
    assert "共 56 件" in page_1 and len(listed_ids(page_1)) == 50
    assert "第 1 / 2 页" in page_1
    page_2 = analyst.get(f"/cppcc/submissions?q={word}&page=2").text
    assert len(listed_ids(page_2)) == 6
    assert set(listed_ids(page_1)) | set(listed_ids(page_2)) == {*made, old, proposal, report}
    counts = re.search(r'id="cps-count-registered">\s*<div class="value">(\d+)', page_1)
    assigned = re.search(r'id="cps-count-assigned">\s*<div class="value">(\d+)', page_1)
    assert counts is not None and int(counts.group(1)) == 55
    assert assigned is not None and int(assigned.group(1)) == 1

    def ids(query: str) -> set[int]:
        return set(listed_ids(analyst.get(f"/cppcc/submissions?q={word}&{query}").text))

    assert ids("kind=proposal") == {proposal}
    assert ids("kind=opinion_report") == {report}
    assert ids("state=assigned") == {old}
    assert ids(f"unit={cw.units.unit_a}") == {old}
    assert ids(f"chain={OTHER}") == {report}
    assert ids(f"member={cw.members.li}") == {proposal}
    assert ids(f"year={last_year.year}") == {old}
    bad = analyst.get("/cppcc/submissions?year=公元")
    assert bad.status_code == 422 and "「年度」无效" in bad.text
    # the state chip keeps the other filters and counts within them
    chip = re.search(r'href="(/cppcc/submissions\?[^"]*state=assigned[^"]*)"', page_1)
    assert chip is not None and "q=" in chip.group(1)

    # the export holds exactly what the filtered list shows, with Chinese headers
    query = f"q={word}&chain={SCOPED_CHAIN}"
    shown = set(listed_ids(analyst.get(f"/cppcc/submissions?{query}").text)) | set(
        listed_ids(analyst.get(f"/cppcc/submissions?{query}&page=2").text)
    )
    export = analyst.get(f"/cppcc/submissions.xlsx?{query}")
    assert export.status_code == 200
    assert "filename*=UTF-8''" in export.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    sheet = book.active
    assert sheet is not None
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["编号", "文号", "类型", "标题"] and "承办单位" in headers
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref is not None
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == shown and len(rows) == len(shown) == 55
    by_id = {r[0]: dict(zip(headers, r, strict=True)) for r in rows}
    assert by_id[old]["承办单位"] == "自然资源局（主办）" and by_id[old]["办理状态"] == "已交办"
    assert by_id[proposal]["类型"] == "提案" and by_id[proposal]["提出委员"] == "李委员"
    assert by_id[old]["提出日期"].date() == last_year
    # a scoped role exports only what it may see
    nev_rows = openpyxl.load_workbook(
        io.BytesIO(clients["nev_office"].get(f"/cppcc/submissions.xlsx?q={word}").content)
    ).active
    assert nev_rows is not None
    assert {r[0] for r in nev_rows.iter_rows(min_row=2, values_only=True)} == {report}
