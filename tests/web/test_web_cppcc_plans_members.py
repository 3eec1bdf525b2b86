"""协商计划 and 委员 pages: a yearly plan built through the pages (topics by kind, month,
chain, lead), its progress from the meetings held for each topic, topic edits locked on the
plan's version; the member roster filtered by party or sector, members added and edited, an
account linked; form errors that name the field and keep what was typed; who may do what
on every route."""

from __future__ import annotations

from datetime import date
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.cppcc_world import CppccWorld, make_cppcc_world
from tests.web.workflow_world import csrf_on, version_on

from chainatlas.accounts.models import User
from chainatlas.cppcc import consultations, plans
from chainatlas.cppcc.models import ConsultationPlan, Member
from chainatlas.db.audit import AuditEntry
from chainatlas.settings import Settings
from chainatlas.workflow.access import Actor

SETUP = Actor.system("setup")
STAFF = ("admin", "analyst")
ROLES = ("admin", "analyst", "office", "nev_office", "unit_a", "zhang", "li", "viewer")
# the access table lets the chain offices and member units see no plan and no member
PLAN_READERS = {"admin", "analyst", "zhang", "li", "viewer"}


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CppccWorld:
    return make_cppcc_world(tmp_path_factory.mktemp("cpplans"), web_settings, PASSWORD)


def db_session(world: CppccWorld) -> Any:
    return world.app.state.chainatlas.db.session()


def post(client: TestClient, path: str, page: str, **fields: Any) -> Any:
    data = {"csrf_token": csrf_on(page), **fields}
    return client.post(path, data=data, follow_redirects=False)


def plan_of(world: CppccWorld, plan_id: int) -> list[tuple[str, str, str | None, int | None, str]]:
    with db_session(world) as session:
        plan = session.get(ConsultationPlan, plan_id)
        assert plan is not None
        return [(t.kind, t.topic, t.chain_id, t.planned_month, t.lead) for t in plan.topics]


def create_plan(client: TestClient, year: int) -> int:
    page = client.get("/cppcc/plans").text
    made = post(client, "/cppcc/plans", page, year=str(year), title="", note="市政协党组审定")
    assert made.status_code == 303, made.text[:1000]
    return int(made.headers["location"].rsplit("/", 1)[1])


def add_topic(client: TestClient, plan_id: int, **fields: Any) -> Any:
    page = client.get(f"/cppcc/plans/{plan_id}").text
    return post(client, f"/cppcc/plans/{plan_id}/topics", page, version=version_on(page), **fields)


def test_a_plan_with_its_topics_and_their_progress(world: CppccWorld) -> None:
    analyst = world.client("analyst")
    plan_id = create_plan(analyst, 2025)
    sugar = {
        "kind": "topical",
        "topic": "推动甘蔗制糖产业延链补链强链",
        "chain_id": SCOPED_CHAIN,
        "planned_month": "7",
        "lead": "经济委员会",
    }
    assert add_topic(analyst, plan_id, **sugar).status_code == 303
    bimonthly = {"kind": "bimonthly", "topic": "优化营商环境", "planned_month": "9", "lead": ""}
    assert add_topic(analyst, plan_id, **bimonthly).status_code == 303
    assert plan_of(world, plan_id) == [
        ("topical", "推动甘蔗制糖产业延链补链强链", SCOPED_CHAIN, 7, "经济委员会"),
        ("bimonthly", "优化营商环境", None, 9, ""),
    ]

    # a meeting held for the first topic, from the plan's "record a meeting" link
    page = analyst.get(f"/cppcc/plans/{plan_id}").text
    with db_session(world) as session:
        topic_ids = [t.id for t in session.get(ConsultationPlan, plan_id).topics]
    link = f'href="/cppcc/meetings/new?plan_topic={topic_ids[0]}"'
    assert link in page
    form = analyst.get(f"/cppcc/meetings/new?plan_topic={topic_ids[0]}").text
    assert f'<option value="{topic_ids[0]}" selected>' in form
    assert 'value="推动甘蔗制糖产业延链补链强链"' in form
    assert f'name="chain_ids" value="{SCOPED_CHAIN}" checked' in form
    held = post(
        analyst,
        "/cppcc/meetings",
        form,
        kind="topical",
        held_on="2025-07-15",
        topic="推动甘蔗制糖产业延链补链强链",
        plan_topic_id=str(topic_ids[0]),
        chain_ids=[SCOPED_CHAIN],
    )
    assert held.status_code == 303
    meeting_id = int(held.headers["location"].rsplit("/", 1)[1])

    page = analyst.get(f"/cppcc/plans/{plan_id}").text
    assert "共 2 个议题，已召开 1 个" in page
    first = page.split(f'id="topic-{topic_ids[0]}"')[1].split("</tr>")[0]
    assert f'href="/cppcc/meetings/{meeting_id}"' in first and "2025-07-15" in first
    assert "甘蔗制糖" in first and "7 月" in first and "经济委员会" in first
    second = page.split(f'id="topic-{topic_ids[1]}"')[1].split("</tr>")[0]
    assert "未召开" in second and "cp-progress-held" not in second
    topical = page.split('id="kind-topical"')[1].split("</section>")[0]
    assert "推动甘蔗制糖产业延链补链强链" in topical and "优化营商环境" not in topical
    listing = analyst.get("/cppcc/plans").text
    row = listing.split('id="plan-2025"')[1].split("</tr>")[0]
    assert "2025年度协商计划" in row
    assert [c.split("<")[0] for c in row.split('<td class="num">')[1:]] == ["2", "1"]
    # the meeting's page names its plan topic
    meeting = analyst.get(f"/cppcc/meetings/{meeting_id}").text
    assert f'href="/cppcc/plans/{plan_id}#topic-{topic_ids[0]}"' in meeting

    # edit, then remove the second topic; the meeting keeps its record
    page = analyst.get(f"/cppcc/plans/{plan_id}").text
    edited = post(
        analyst,
        f"/cppcc/plans/{plan_id}/topics/{topic_ids[1]}/edit",
        page,
        version=version_on(page),
        **{**bimonthly, "topic": "优化民营经济营商环境", "planned_month": "10"},
    )
    assert edited.status_code == 303
    assert plan_of(world, plan_id)[1] == ("bimonthly", "优化民营经济营商环境", None, 10, "")
    page = analyst.get(f"/cppcc/plans/{plan_id}").text
    removed = post(
        analyst,
        f"/cppcc/plans/{plan_id}/topics/{topic_ids[1]}/remove",
        page,
        version=version_on(page),
    )
    assert removed.status_code == 303 and len(plan_of(world, plan_id)) == 1
    with db_session(world) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"consultation_plan:{plan_id}")
        ).all()
    assert actions == [
        "cppcc.plan.add",
        "cppcc.plan.topic_add",
        "cppcc.plan.topic_add",
        "cppcc.plan.topic_edit",
        "cppcc.plan.topic_remove",
    ]


def test_plan_form_errors_and_a_stale_edit(world: CppccWorld) -> None:
    analyst, admin = world.client("analyst"), world.client("admin")
    plan_id = create_plan(analyst, 2026)
    page = analyst.get("/cppcc/plans").text
    again = post(analyst, "/cppcc/plans", page, year="2026", title="重复")
    assert again.status_code == 422 and "2026 年度协商计划已存在" in again.text
    assert 'value="重复"' in again.text
    no_year = post(analyst, "/cppcc/plans", page, year="", title="无年度")
    assert no_year.status_code == 422 and "请填写「年度」" in no_year.text

    no_topic = add_topic(analyst, plan_id, kind="sector", topic=" ", lead="农业和农村委员会")
    assert no_topic.status_code == 422 and "请填写协商议题" in no_topic.text
    assert 'value="农业和农村委员会"' in no_topic.text  # what was typed stays
    month = add_topic(analyst, plan_id, kind="sector", topic="乡村振兴", planned_month="13")
    assert month.status_code == 422 and "「计划月份」无效：13" in month.text
    other = add_topic(analyst, plan_id, kind="other", topic="乡村振兴")
    assert other.status_code == 422 and "协商类型「other」无效" in other.text
    analyst.get("/lang/en")
    english = add_topic(analyst, plan_id, kind="sector", topic="", planned_month="")
    assert english.status_code == 422 and "topic is required" in english.text
    analyst.get("/lang/zh")
    assert plan_of(world, plan_id) == []

    # two editors from the same version: the second gets the conflict and changes nothing
    page_1 = analyst.get(f"/cppcc/plans/{plan_id}").text
    page_2 = admin.get(f"/cppcc/plans/{plan_id}").text
    first = post(
        analyst,
        f"/cppcc/plans/{plan_id}/topics",
        page_1,
        version=version_on(page_1),
        kind="sector",
        topic="乡村振兴与糖料蔗基地",
    )
    assert first.status_code == 303
    stale = post(
        admin,
        f"/cppcc/plans/{plan_id}/edit",
        page_2,
        version=version_on(page_2),
        title="被覆盖的计划名称",
        note="",
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert 'value="被覆盖的计划名称"' in stale.text
    with db_session(world) as session:
        plan = session.get(ConsultationPlan, plan_id)
        assert plan is not None and plan.title == "2026年度协商计划"
        assert plan.note == "市政协党组审定"
        assert version_on(stale.text) == str(plan.version)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_plan_route_answers_each_role_as_the_access_table_says(
    world: CppccWorld, role: str
) -> None:
    with db_session(world) as session:
        plan = plans.find_plan(session, 2040) or plans.create_plan(
            session, SETUP, 2040, topics=[plans.TopicIn("topical", "糖业", SCOPED_CHAIN, 3)]
        )
        plan_id, topic_id = plan.id, plan.topics[0].id
    client = TestClient(world.app) if role == "anonymous" else world.client(role)
    wrong = []
    for path in ("/cppcc/plans", f"/cppcc/plans/{plan_id}"):
        response = client.get(path, follow_redirects=False)
        expected = 303 if role == "anonymous" else 200 if role in PLAN_READERS else 403
        if response.status_code != expected:
            wrong.append(f"GET {path}: {response.status_code}")
    token = "none" if role == "anonymous" else csrf_on(client.get("/cppcc/meetings").text)
    topic = {"kind": "topical", "topic": f"{role} 的议题", "chain_id": SCOPED_CHAIN}
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/cppcc/plans/{plan_id}/topics/{topic_id}/edit", topic),
        (f"/cppcc/plans/{plan_id}/topics", topic),
        (f"/cppcc/plans/{plan_id}/edit", {"title": f"{role} 改的计划", "note": ""}),
        ("/cppcc/plans", {"year": str(2100 + ROLES.index(role) if role in ROLES else 2199)}),
    ]
    with db_session(world) as session:
        before = len(session.scalars(select(AuditEntry.id)).all())
    for path, data in posts:
        response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        expected = 303 if role == "anonymous" or role in STAFF else 403
        if response.status_code != expected:
            wrong.append(f"POST {path}: {response.status_code} {response.text[:300]}")
        if role == "anonymous" and not response.headers.get("location", "").startswith("/login"):
            wrong.append(f"POST {path}: not sent to log in")
    # removing comes last: it takes the topic away
    response = client.post(
        f"/cppcc/plans/{plan_id}/topics/{topic_id}/remove",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code != (303 if role == "anonymous" or role in STAFF else 403):
        wrong.append(f"POST remove: {response.status_code}")
    assert not wrong, wrong
    with db_session(world) as session:
        after = len(session.scalars(select(AuditEntry.id)).all())
    if role not in STAFF:
        assert after == before


# --- members ------------------------------------------------------------------------------


def member_of(world: CppccWorld, member_id: int) -> Member:
    with db_session(world) as session:
        member = session.get(Member, member_id)
        assert member is not None
        session.expunge(member)
        return member


def user_id(world: CppccWorld, username: str) -> int:
    with db_session(world) as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return int(found)


def test_the_roster_filtered_by_group_with_the_accounts(world: CppccWorld) -> None:
    viewer = world.client("viewer")
    roster = viewer.get("/cppcc/members").text
    rows = roster.split('class="data cp-members"')[1].split("</table>")[0]
    zhang = rows.split(f'id="member-{world.members.zhang}"')[1].split("</tr>")[0]
    assert "张委员" in zhang and "民革" in zhang and ">zhang<" in zhang and "在任" in zhang
    wang = rows.split(f'id="member-{world.members.wang}"')[1].split("</tr>")[0]
    assert "常委" in wang and "经济界" in wang
    only = viewer.get("/cppcc/members?group=rcck").text.split('class="data cp-members"')[1]
    assert "张委员" in only and "李委员" not in only and "王委员" not in only
    assert viewer.get("/cppcc/members?group=nonsense").status_code == 422
    # a viewer reads but has no form to add members
    assert 'id="cp-new-member"' not in roster
    page = viewer.get(f"/cppcc/members/{world.members.li}").text
    assert "民盟" in page and 'id="cp-member-edit"' not in page
    viewer.get("/lang/en")
    english = viewer.get("/cppcc/members").text
    assert "Revolutionary Committee of the Chinese Kuomintang" in english
    assert "CPPCC members" in english
    viewer.get("/lang/zh")


def test_members_added_edited_and_linked_to_an_account(world: CppccWorld) -> None:
    analyst = world.client("analyst")
    roster = analyst.get("/cppcc/members").text
    no_name = post(
        analyst, "/cppcc/members", roster, name=" ", group="cndca", employer="梧州某糖业公司"
    )
    assert no_name.status_code == 422 and "请填写委员姓名" in no_name.text
    assert (
        'value="梧州某糖业公司"' in no_name.text
        and '<option value="cndca" selected>' in no_name.text
    )
    analyst.get("/lang/en")
    english = post(analyst, "/cppcc/members", roster, name="", employer="x")
    assert english.status_code == 422 and "member name is required" in english.text
    analyst.get("/lang/zh")
    bad_group = post(analyst, "/cppcc/members", roster, name="赵委员", group="民主党")
    assert (
        bad_group.status_code == 422 and "所属党派或界别「民主党」不在参考名单中" in bad_group.text
    )
    made = post(
        analyst,
        "/cppcc/members",
        roster,
        name="赵委员",
        group="cndca",
        title="委员",
        employer="梧州某糖业公司 董事长",
    )
    assert made.status_code == 303
    zhao = int(made.headers["location"].rsplit("/", 1)[1])
    assert member_of(world, zhao).group_id == "cndca"

    # edit from two copies: the second gets the conflict
    page_1 = analyst.get(f"/cppcc/members/{zhao}").text
    admin = world.client("admin")
    page_2 = admin.get(f"/cppcc/members/{zhao}").text
    fields = {"name": "赵委员", "group": "cndca", "title": "常委", "active": "1"}
    ok = post(analyst, f"/cppcc/members/{zhao}/edit", page_1, version=version_on(page_1), **fields)
    assert ok.status_code == 303
    stale = post(
        admin,
        f"/cppcc/members/{zhao}/edit",
        page_2,
        version=version_on(page_2),
        **{**fields, "title": "被覆盖"},
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert member_of(world, zhao).title == "常委"

    # link the account `viewer`, then refuse linking `zhang`'s (already 张委员's)
    page = analyst.get(f"/cppcc/members/{zhao}").text
    linked = post(
        analyst,
        f"/cppcc/members/{zhao}/account",
        page,
        version=version_on(page),
        user_id=str(user_id(world, "viewer")),
    )
    assert linked.status_code == 303
    assert member_of(world, zhao).user_id == user_id(world, "viewer")
    assert ">viewer<" in analyst.get(f"/cppcc/members/{zhao}").text
    page = analyst.get(f"/cppcc/members/{zhao}").text
    taken = post(
        analyst,
        f"/cppcc/members/{zhao}/account",
        page,
        version=version_on(page),
        user_id=str(user_id(world, "zhang")),
    )
    assert taken.status_code == 422 and "账号 zhang 已关联委员「张委员」" in unescape(taken.text)
    # retire the member: the roster hides it unless asked
    page = analyst.get(f"/cppcc/members/{zhao}").text
    fields = {"name": "赵委员", "group": "cndca", "title": "常委", "active": ""}
    assert (
        post(
            analyst, f"/cppcc/members/{zhao}/edit", page, version=version_on(page), **fields
        ).status_code
        == 303
    )
    assert f'id="member-{zhao}"' not in analyst.get("/cppcc/members").text
    assert f'id="member-{zhao}"' in analyst.get("/cppcc/members?active=0").text


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_member_route_answers_each_role_as_the_access_table_says(
    world: CppccWorld, role: str
) -> None:
    client = TestClient(world.app) if role == "anonymous" else world.client(role)
    m = world.members
    wrong = []
    roster = client.get("/cppcc/members", follow_redirects=False)
    if role == "anonymous":
        assert roster.status_code == 303 and roster.headers["location"].startswith("/login")
    else:
        assert roster.status_code == 200
        # the chain offices and member units see no member (the access table)
        assert ("张委员" in roster.text) == (role in PLAN_READERS)
    for member_id in (m.zhang, m.li, m.wang):
        response = client.get(f"/cppcc/members/{member_id}", follow_redirects=False)
        expected = 303 if role == "anonymous" else 200 if role in PLAN_READERS else 403
        if response.status_code != expected:
            wrong.append(f"GET member {member_id}: {response.status_code}")
    token = "none" if role == "anonymous" else csrf_on(client.get("/cppcc/meetings").text)
    with db_session(world) as session:
        before = len(session.scalars(select(AuditEntry.id)).all())
    # a member changes neither its own record nor another's; only the staff do
    for member_id in (m.zhang, m.li):
        current = member_of(world, member_id)
        for path, data in (
            (
                f"/cppcc/members/{member_id}/edit",
                {"name": current.name, "group": current.group_id or "", "active": "1"},
            ),
            (f"/cppcc/members/{member_id}/account", {"user_id": str(current.user_id or "")}),
        ):
            response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
            expected = 303 if role == "anonymous" or role in STAFF else 403
            if response.status_code != expected:
                wrong.append(f"POST {path}: {response.status_code} {response.text[:300]}")
    added = client.post(
        "/cppcc/members",
        data={"csrf_token": token, "name": f"{role} 添加的委员"},
        follow_redirects=False,
    )
    if added.status_code != (303 if role == "anonymous" or role in STAFF else 403):
        wrong.append(f"POST /cppcc/members: {added.status_code}")
    assert not wrong, wrong
    if role not in STAFF:
        with db_session(world) as session:
            assert len(session.scalars(select(AuditEntry.id)).all()) == before


def test_plan_progress_counts_only_meetings_of_the_topic(world: CppccWorld) -> None:
    """A meeting without a plan topic does not count toward any topic."""
    with db_session(world) as session:
        plan = plans.create_plan(
            session, SETUP, 2027, topics=[plans.TopicIn("counterpart", "冷链物流", "cold_chain")]
        )
        consultations.create_consultation(
            session, SETUP, kind="counterpart", held_on=date(2027, 4, 1), topic="冷链物流"
        )
        plan_id = plan.id
    page = world.client("viewer").get(f"/cppcc/plans/{plan_id}").text
    assert "共 1 个议题，已召开 0 个" in page and "未召开" in page
    assert 'id="cp-add-topic"' not in page  # a viewer reads only


def test_every_plan_and_member_page_speaks_both_languages(world: CppccWorld) -> None:
    admin = world.client("admin")
    with db_session(world) as session:
        plan = plans.find_plan(session, 2041) or plans.create_plan(
            session, SETUP, 2041, topics=[plans.TopicIn("sector", "界别协商", SCOPED_CHAIN, 2)]
        )
        plan_id = plan.id
    pages = [
        "/cppcc/plans",
        f"/cppcc/plans/{plan_id}",
        "/cppcc/members",
        f"/cppcc/members/{world.members.wang}",
    ]
    for lang, sample in (("zh", "政协履职"), ("en", "CPPCC")):
        admin.get(f"/lang/{lang}")
        for path in pages:
            response = admin.get(path)
            assert response.status_code == 200, (lang, path)
            assert "cpm_" not in response.text and "cp_tab" not in response.text, (lang, path)
            assert sample in response.text, (lang, path)
    admin.get("/lang/zh")
