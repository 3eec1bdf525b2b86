"""委员履职 pages: the access matrix of every duty route × role (a member records and edits
its own records only, scoped roles see the records of their chains, viewers only read), the
list's filters and links (the enterprise's registered name from the warehouse, the case,
the consultation), form errors that name the field and keep what was typed, the version
conflict (409, nothing overwritten), deletion with a reason, and a case raised from a visit
by the chain office."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.cppcc_world import CppccWorld, make_cppcc_world
from tests.web.workflow_world import OTHER, csrf_on, version_on

from chainatlas.cppcc import consultations, duties
from chainatlas.cppcc.models import DutyRecord
from chainatlas.db.audit import AuditEntry
from chainatlas.settings import Settings
from chainatlas.web.routes._workflow import PAGE_SIZE
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import Case

SETUP = Actor.system("setup")
ROLES = ("admin", "analyst", "office", "unit_a", "nev_office", "zhang", "li", "viewer")
DAY = local_today() - timedelta(days=3)


@dataclass(frozen=True)
class Records:
    zhang_visit: int  # 张委员, visit on sugarcane, an enterprise of the warehouse
    li_event: int  # 李委员, investment event on new_energy_vehicle
    wang_research: int  # 王委员, research on no chain
    meeting: int  # a topical consultation on sugarcane
    uscc: str
    registered_name: str


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CppccWorld:
    return make_cppcc_world(tmp_path_factory.mktemp("cpduties"), web_settings, PASSWORD)


def _firm(world: CppccWorld) -> tuple[str, str]:
    with world.world.state.warehouse.read() as wh:
        row = wh.sql(
            "SELECT e.uscc, e.name FROM enterprises e JOIN assignments a USING (uscc) "
            "WHERE a.chain_id = ? ORDER BY e.uscc LIMIT 1",
            [SCOPED_CHAIN],
        ).row(0)
    return str(row[0]), str(row[1])


@pytest.fixture(scope="module")
def records(world: CppccWorld) -> Records:
    uscc, registered = _firm(world)
    with world.world.state.db.session() as session:
        meeting = consultations.create_consultation(
            session,
            SETUP,
            kind="topical",
            held_on=DAY,
            topic="甘蔗产业延链补链专题协商",
            chain_ids=[SCOPED_CHAIN],
        )
        visit = duties.add_duty(
            session,
            SETUP,
            member_id=world.members.zhang,
            kind="visit",
            done_on=DAY,
            title="走访糖企了解技改用电",
            enterprise_name="某糖业（简称）",
            enterprise_uscc=uscc,
            chain_ids=[SCOPED_CHAIN],
            consultation_id=meeting.id,
        )
        event = duties.add_duty(
            session,
            SETUP,
            member_id=world.members.li,
            kind="investment_event",
            done_on=DAY,
            title="参加新能源汽车产业招商推介会",
            chain_ids=[OTHER],
        )
        research = duties.add_duty(
            session,
            SETUP,
            member_id=world.members.wang,
            kind="research",
            done_on=DAY,
            title="调研乡村产业",
        )
        return Records(visit.id, event.id, research.id, meeting.id, uscc, registered)


def record_of(world: CppccWorld, duty_id: int) -> DutyRecord | None:
    with world.world.state.db.session() as session:
        record = session.get(DutyRecord, duty_id)
        if record is not None:
            session.expunge(record)
        return record


def new_record(world: CppccWorld, member: int, chains: list[str], title: str) -> int:
    with world.world.state.db.session() as session:
        return duties.add_duty(
            session,
            SETUP,
            member_id=member,
            kind="research",
            done_on=DAY,
            title=title,
            chain_ids=chains,
        ).id


def post(client: TestClient, path: str, page: str, **fields: Any) -> Any:
    data = {"csrf_token": csrf_on(page), **fields}
    return client.post(path, data=data, follow_redirects=False)


def duty_fields(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "visit",
        "done_on": DAY.isoformat(),
        "title": "走访企业",
        "enterprise_name": "梧州测试糖业有限公司",
        "chain_ids": [SCOPED_CHAIN],
        **extra,
    }


def listed(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'<tr id="duty-(\d+)">', page)}


# --- the access matrix ----------------------------------------------------------------------
def test_who_sees_which_records(world: CppccWorld, records: Records) -> None:
    everything = {records.zhang_visit, records.li_event, records.wang_research}
    expected = {
        "admin": everything,
        "analyst": everything,
        "viewer": everything,
        "zhang": everything,
        "li": everything,
        "office": {records.zhang_visit},  # sugarcane only
        "unit_a": {records.zhang_visit},
        "nev_office": {records.li_event},
    }
    for role in ROLES:
        client = world.client(role)
        page = client.get("/cppcc/duties")
        assert page.status_code == 200, role
        assert listed(page.text) & everything == expected[role], role
        for duty_id in everything:
            status = client.get(f"/cppcc/duties/{duty_id}").status_code
            assert status == (200 if duty_id in expected[role] else 403), (role, duty_id)
    # a scoped role asking for another chain is refused
    assert world.client("office").get(f"/cppcc/duties?chain={OTHER}").status_code == 403
    assert world.client("nev_office").get(f"/cppcc/duties?chain={OTHER}").status_code == 200
    anonymous = TestClient(world.app)
    for path in (
        "/cppcc/duties",
        "/cppcc/duties/new",
        f"/cppcc/duties/{records.zhang_visit}",
        f"/cppcc/duties/{records.zhang_visit}/edit",
    ):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for path in (
        "/cppcc/duties",
        f"/cppcc/duties/{records.zhang_visit}",
        f"/cppcc/duties/{records.zhang_visit}/delete",
        f"/cppcc/duties/{records.zhang_visit}/case",
    ):
        response = anonymous.post(path, data={}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_who_may_record_and_edit(world: CppccWorld, records: Records) -> None:
    # the form: open to everyone, the save button only for those who may record
    for role in ROLES:
        form = world.client(role).get("/cppcc/duties/new")
        assert form.status_code == 200, role
        disabled = 'type="submit" disabled' in form.text
        assert disabled == (role not in ("admin", "analyst", "zhang", "li")), role
    # a member's form fixes the member to itself
    zhang = world.client("zhang")
    form = zhang.get("/cppcc/duties/new").text
    assert f'name="member_id" value="{world.members.zhang}"' in form
    assert 'select name="member_id"' not in form and "张委员" in form
    staff_form = world.client("analyst").get("/cppcc/duties/new").text
    assert 'select name="member_id"' in staff_form and "王委员" in staff_form

    # creating: staff for anyone, a member for itself only, nobody else
    for role, member, status in (
        ("admin", world.members.wang, 303),
        ("analyst", world.members.li, 303),
        ("zhang", world.members.zhang, 303),
        ("zhang", world.members.li, 403),
        ("li", world.members.zhang, 403),
        ("viewer", world.members.zhang, 403),
        ("office", world.members.zhang, 403),
        ("unit_a", world.members.zhang, 403),
        ("nev_office", world.members.li, 403),
    ):
        client = world.client(role)
        page = client.get("/cppcc/duties/new").text
        before = record_count(world)
        response = post(
            client, "/cppcc/duties", page, **duty_fields(member_id=member, title=f"{role}录入")
        )
        assert response.status_code == status, (role, member, response.text[:300])
        assert record_count(world) == before + (1 if status == 303 else 0)
        if status == 303:
            created = record_of(world, int(response.headers["location"].rsplit("/", 1)[1]))
            assert created is not None and created.member_id == member
            assert created.created_by == role

    # editing: the edit form and the save, per role, on zhang's and li's records
    mine = new_record(world, world.members.zhang, [SCOPED_CHAIN], "张委员的调研")
    theirs = new_record(world, world.members.li, [OTHER], "李委员的调研")
    for role, duty_id, status in (
        ("admin", mine, 200),
        ("analyst", theirs, 200),
        ("zhang", mine, 200),
        ("zhang", theirs, 403),
        ("li", mine, 403),
        ("li", theirs, 200),
        ("viewer", mine, 403),
        ("office", mine, 403),  # it sees the record on its chain, may not change it
        ("unit_a", mine, 403),
        ("nev_office", mine, 403),
    ):
        assert world.client(role).get(f"/cppcc/duties/{duty_id}/edit").status_code == status
    for role, duty_id, status in (
        ("zhang", theirs, 403),
        ("li", mine, 403),
        ("viewer", mine, 403),
        ("office", mine, 403),
        ("zhang", mine, 303),
        ("analyst", theirs, 303),
    ):
        client = world.client(role)
        before = record_of(world, duty_id)
        assert before is not None
        page = client.get(f"/cppcc/duties/{duty_id}")
        token_page = page.text if page.status_code == 200 else client.get("/cppcc/duties").text
        response = post(
            client,
            f"/cppcc/duties/{duty_id}",
            token_page,
            version=str(before.version),
            kind="research",
            done_on=DAY.isoformat(),
            title=f"{role}改过的标题",
            chain_ids=before.chain_ids,
        )
        assert response.status_code == status, (role, duty_id)
        after = record_of(world, duty_id)
        assert after is not None
        if status == 403:
            assert (after.title, after.version) == (before.title, before.version)
        else:
            assert after.title == f"{role}改过的标题"
    # deleting: the owner or staff; not another member, a viewer or a chain office
    for role in ("li", "viewer", "office"):
        client = world.client(role)
        current = record_of(world, mine)
        assert current is not None
        response = post(
            client,
            f"/cppcc/duties/{mine}/delete",
            client.get("/cppcc/duties").text,
            version=str(current.version),
            reason="误录",
        )
        assert response.status_code == 403, role
        assert record_of(world, mine) is not None
    page = zhang.get(f"/cppcc/duties/{mine}").text
    no_reason = post(zhang, f"/cppcc/duties/{mine}/delete", page, version=version_on(page))
    assert no_reason.status_code == 422 and "删除原因" in no_reason.text
    assert record_of(world, mine) is not None
    gone = post(
        zhang, f"/cppcc/duties/{mine}/delete", page, version=version_on(page), reason="重复录入"
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/cppcc/duties"
    assert record_of(world, mine) is None
    with world.world.state.db.session() as session:
        entry = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "cppcc.duty.delete", AuditEntry.target == f"duty_record:{mine}"
            )
        )
        assert entry is not None and "重复录入" in entry.detail and entry.username == "zhang"


def record_count(world: CppccWorld) -> int:
    with world.world.state.db.session() as session:
        return len(session.scalars(select(DutyRecord.id)).all())


# --- the list, the record's page and its links -----------------------------------------------
def test_the_list_filters_and_links(world: CppccWorld, records: Records) -> None:
    viewer = world.client("viewer")
    page = viewer.get("/cppcc/duties").text
    row = page.split(f'<tr id="duty-{records.zhang_visit}">')[1].split("</tr>")[0]
    # the warehouse's registered name, linked to the enterprise's page; the typed name beside
    assert f'href="/enterprises/{records.uscc}"' in row
    assert records.registered_name in row and "某糖业（简称）" in row
    assert f'href="/cppcc/meetings/{records.meeting}"' in row
    assert "甘蔗产业延链补链专题协商" in row and "甘蔗制糖" in row
    assert "张委员" in row and "民革" in row and "走访企业" in row

    by_kind = viewer.get("/cppcc/duties?kind=investment_event").text
    assert records.li_event in listed(by_kind) and records.zhang_visit not in listed(by_kind)
    by_member = viewer.get(f"/cppcc/duties?member={world.members.wang}").text
    assert records.wang_research in listed(by_member)
    assert not listed(by_member) & {records.zhang_visit, records.li_event}
    by_chain = viewer.get(f"/cppcc/duties?chain={OTHER}").text
    assert records.li_event in listed(by_chain) and records.zhang_visit not in listed(by_chain)
    by_text = viewer.get("/cppcc/duties?q=招商推介").text
    assert listed(by_text) == {records.li_event}
    by_year = viewer.get(f"/cppcc/duties?year={DAY.year - 3}").text
    assert listed(by_year) == set()
    assert records.zhang_visit in listed(viewer.get(f"/cppcc/duties?year={DAY.year}").text)
    for bad, field in (("year=19", "年度"), ("kind=party", "履职类型"), ("member=abc", "委员")):
        response = viewer.get(f"/cppcc/duties?{bad}")
        assert response.status_code == 422 and field in response.text, bad

    # the record's page names the member, the enterprise and the consultation
    detail = viewer.get(f"/cppcc/duties/{records.zhang_visit}").text
    assert "走访糖企了解技改用电" in detail and records.registered_name in detail
    assert f'href="/cppcc/meetings/{records.meeting}"' in detail
    assert 'id="act-case"' not in detail and 'id="act-delete"' not in detail
    viewer.get("/lang/en")
    english = viewer.get(f"/cppcc/duties/{records.zhang_visit}").text
    assert "Duty record" in english and "enterprise visit" in english


def test_form_errors_name_the_field_and_keep_what_was_typed(world: CppccWorld) -> None:
    zhang = world.client("zhang")
    page = zhang.get("/cppcc/duties/new").text
    before = record_count(world)
    typed = duty_fields(
        member_id=world.members.zhang,
        title="走访蔗糖循环经济产业园",
        enterprise_name="",
        description="了解园区企业用电需求",
    )
    for change, field in (
        ({"enterprise_name": ""}, "企业名称"),
        ({"enterprise_name": "梧州某公司", "done_on": "2025-02-30"}, "履职日期"),
        ({"enterprise_name": "梧州某公司", "done_on": ""}, "履职日期"),
        ({"enterprise_name": "梧州某公司", "enterprise_uscc": "91450400ABC"}, "统一社会信用代码"),
        ({"enterprise_name": "梧州某公司", "kind": "party"}, "履职类型"),
        ({"enterprise_name": "梧州某公司", "case_id": "x1"}, "关联诉求编号"),
        ({"enterprise_name": "梧州某公司", "case_id": "999999"}, "诉求"),
        (
            {
                "enterprise_name": "梧州某公司",
                "done_on": (local_today() + timedelta(days=2)).isoformat(),
            },
            "不能晚于今天",
        ),
    ):
        fields = {**typed, **change}
        response = post(zhang, "/cppcc/duties", page, **fields)
        assert response.status_code == 422, (change, response.text[:300])
        error = re.search(
            r'<p class="alert" role="alert" id="cpd-error">([^<]*)</p>', response.text
        )
        assert error is not None and field in error.group(1), (change, error)
        # what was typed is still in the form
        assert 'value="走访蔗糖循环经济产业园"' in response.text
        assert "了解园区企业用电需求" in response.text
        assert f'value="{SCOPED_CHAIN}" checked' in response.text
    assert record_count(world) == before
    zhang.get("/lang/en")
    english = post(zhang, "/cppcc/duties", page, **typed)
    assert english.status_code == 422 and "enterprise name is required" in english.text


def test_a_uscc_alone_takes_the_registered_name(world: CppccWorld, records: Records) -> None:
    analyst = world.client("analyst")
    page = analyst.get("/cppcc/duties/new").text
    response = post(
        analyst,
        "/cppcc/duties",
        page,
        **duty_fields(
            member_id=world.members.wang, enterprise_name="", enterprise_uscc=records.uscc
        ),
    )
    assert response.status_code == 303
    created = record_of(world, int(response.headers["location"].rsplit("/", 1)[1]))
    assert created is not None
    assert (created.enterprise_name, created.enterprise_uscc) == (
        records.registered_name,
        records.uscc,
    )


def test_a_stale_edit_gets_the_conflict_and_changes_nothing(world: CppccWorld) -> None:
    duty_id = new_record(world, world.members.zhang, [SCOPED_CHAIN], "蔗区调研")
    first, second = world.client("zhang"), world.client("analyst")
    page_1 = first.get(f"/cppcc/duties/{duty_id}/edit").text
    page_2 = second.get(f"/cppcc/duties/{duty_id}/edit").text
    assert version_on(page_1) == version_on(page_2)
    common = {"kind": "research", "done_on": DAY.isoformat(), "chain_ids": [SCOPED_CHAIN]}
    ok = post(
        first,
        f"/cppcc/duties/{duty_id}",
        page_1,
        version=version_on(page_1),
        title="蔗区调研（一）",
        **common,
    )
    assert ok.status_code == 303
    stale = post(
        second,
        f"/cppcc/duties/{duty_id}",
        page_2,
        version=version_on(page_2),
        title="被覆盖的标题",
        description="不应保存",
        **common,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    # the conflict page keeps what the second editor typed
    assert 'value="被覆盖的标题"' in stale.text
    record = record_of(world, duty_id)
    assert record is not None and record.title == "蔗区调研（一）" and record.description == ""
    # deleting from the stale page is refused too
    refused = post(
        second, f"/cppcc/duties/{duty_id}/delete", page_2, version=version_on(page_2), reason="x"
    )
    assert refused.status_code == 409 and record_of(world, duty_id) is not None


# --- a case raised from a visit ---------------------------------------------------------------
def test_the_chain_office_raises_a_case_from_a_visit(world: CppccWorld, records: Records) -> None:
    zhang = world.client("zhang")
    page = zhang.get("/cppcc/duties/new").text
    response = post(
        zhang,
        "/cppcc/duties",
        page,
        **duty_fields(
            member_id=world.members.zhang,
            title="走访制糖企业",
            enterprise_name="梧州测试糖业有限公司",
            enterprise_uscc=records.uscc,
        ),
    )
    assert response.status_code == 303
    visit = int(response.headers["location"].rsplit("/", 1)[1])
    # the member may not raise chain-chief cases: no form, and a post is refused
    mine = zhang.get(f"/cppcc/duties/{visit}").text
    assert 'id="act-case"' not in mine and "链长办" in mine
    case_fields = {"title": "技改用电增容", "category": "energy", "chain_id": SCOPED_CHAIN}
    for role in ("zhang", "analyst", "viewer"):
        client = world.client(role)
        current = record_of(world, visit)
        assert current is not None
        refused = post(
            client,
            f"/cppcc/duties/{visit}/case",
            client.get(f"/cppcc/duties/{visit}").text,
            version=str(current.version),
            **case_fields,
        )
        assert refused.status_code == 403, role
    nev = world.client("nev_office")
    assert nev.get(f"/cppcc/duties/{visit}").status_code == 403

    office = world.client("office")
    page = office.get(f"/cppcc/duties/{visit}").text
    assert 'id="act-case"' in page
    missing = post(
        office,
        f"/cppcc/duties/{visit}/case",
        page,
        version=version_on(page),
        category="energy",
        chain_id=SCOPED_CHAIN,
        title=" ",
    )
    assert missing.status_code == 422 and "标题" in missing.text
    other = post(
        office,
        f"/cppcc/duties/{visit}/case",
        page,
        version=version_on(page),
        **{**case_fields, "chain_id": OTHER},
    )
    assert other.status_code == 403
    deadline = (local_today() + timedelta(days=20)).isoformat()
    raised = post(
        office,
        f"/cppcc/duties/{visit}/case",
        page,
        version=version_on(page),
        unit_id=str(world.units.unit_a),
        deadline=deadline,
        **case_fields,
    )
    assert raised.status_code == 303, raised.text[:400]
    record = record_of(world, visit)
    assert record is not None and record.case_id is not None
    with world.world.state.db.session() as session:
        case = session.get(Case, record.case_id)
        assert case is not None
        assert (case.source, case.enterprise_uscc, case.unit_id, case.state) == (
            "visit",
            records.uscc,
            world.units.unit_a,
            "assigned",
        )
        assert case.deadline == date.fromisoformat(deadline)
    shown = zhang.get(f"/cppcc/duties/{visit}").text
    assert f'href="/cases/{record.case_id}"' in shown and "技改用电增容" in shown
    # twice is refused: the visit is linked already
    again = post(
        office, f"/cppcc/duties/{visit}/case", page, version=str(record.version), **case_fields
    )
    assert again.status_code == 422 and f"#{record.case_id}" in again.text


def test_the_list_pages(world: CppccWorld) -> None:
    with world.world.state.db.session() as session:
        made = [
            duties.add_duty(
                session,
                SETUP,
                member_id=world.members.wang,
                kind="matchmaking",
                done_on=DAY,
                title=f"银企对接第{n}场",
            ).id
            for n in range(PAGE_SIZE + 3)
        ]
    viewer = world.client("viewer")
    query = f"/cppcc/duties?kind=matchmaking&member={world.members.wang}"
    first = viewer.get(query).text
    second = viewer.get(f"{query}&page=2").text
    assert len(listed(first)) == PAGE_SIZE and listed(second) == set(made) - listed(first)
    assert f'id="cpd-total">{len(made)}<' in first
    # the pager keeps the filters
    assert "kind=matchmaking" in first.split('class="pager"')[1] and "page=2" in first
    beyond = viewer.get(f"{query}&page=9").text  # past the end: the last page
    assert listed(beyond) == listed(second)
