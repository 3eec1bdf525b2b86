"""诉求 pages: raise a case → assign → start → resolve → confirm through the pages with the
history shown; two clients editing from the same version (the second gets the conflict and
changes nothing); a member unit refused on another unit's case; overdue cases in red and
escalated (once) by the chain office's page load; reopen; field errors named."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.workflow_world import OTHER, World, csrf_on, make_world, version_on

from chainatlas.db.audit import AuditEntry
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import Case, CaseChange

ADMIN = Actor.system("setup")


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("wfcases"), web_settings, PASSWORD)


def case_of(world: World, case_id: int) -> Case:
    with world.state.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def post(client: TestClient, path: str, page: str, **fields: object) -> Any:
    data = {"csrf_token": csrf_on(page), **{k: str(v) for k, v in fields.items()}}
    return client.post(path, data=data, follow_redirects=False)


def raise_case(client: TestClient, title: str, **extra: str) -> int:
    form = client.get("/cases/new")
    assert form.status_code == 200
    response = client.post(
        "/cases",
        data={
            "csrf_token": csrf_on(form.text),
            "title": title,
            "source": "enterprise",
            "category": "land",
            "chain_id": SCOPED_CHAIN,
            "enterprise_name": "梧州测试糖业有限公司",
            "description": "新建糖厂仓库用地指标不足",
            **extra,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:800]
    return int(response.headers["location"].rsplit("/", 1)[1])


def act(client: TestClient, case_id: int, action: str, **fields: object) -> int:
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    response = client.post(
        f"/cases/{case_id}/{action}",
        data={"csrf_token": csrf_on(page.text), "version": version_on(page.text), **fields},
        follow_redirects=False,
    )
    return response.status_code


def test_raise_assign_start_resolve_confirm_through_the_pages(world: World) -> None:
    office, unit_a = world.client("office"), world.client("unit_a")
    case_id = raise_case(office, "仓储用地指标不足")
    page = office.get(f"/cases/{case_id}").text
    assert "待分派" in page and 'id="act-assign"' in page
    # the member unit sees the case on its chain, but nothing it may do yet
    assert 'id="act-start"' not in unit_a.get(f"/cases/{case_id}").text

    deadline = (local_today() + timedelta(days=14)).isoformat()
    status = act(office, case_id, "assign", unit_id=world.units.unit_a, deadline=deadline)
    assert status == 303
    page = unit_a.get(f"/cases/{case_id}").text
    assert "已交办" in page and 'id="act-start"' in page and 'id="act-assign"' not in page

    assert act(unit_a, case_id, "start", note="已与企业对接") == 303
    assert act(unit_a, case_id, "resolve", resolution="已调剂 20 亩仓储用地指标") == 303
    # confirming is the chain office's: the unit has no confirm button
    assert 'id="act-confirm"' not in unit_a.get(f"/cases/{case_id}").text
    assert act(office, case_id, "confirm", note="企业电话确认") == 303

    page = office.get(f"/cases/{case_id}").text
    assert "企业已确认" in page and "已调剂 20 亩仓储用地指标" in page
    history = page.split("办理记录")[1]
    for label in ("登记", "交办", "开始办理", "办结", "企业确认"):
        assert label in history, label
    assert "自然资源局" in history and deadline in history
    assert history.count("unit_a") == 2 and history.count("office") >= 3

    case = case_of(world, case_id)
    assert case.state == "confirmed" and case.unit_id == world.units.unit_a
    with world.state.db.session() as session:
        actions = session.scalars(
            select(CaseChange.action).where(CaseChange.case_id == case_id).order_by(CaseChange.id)
        ).all()
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"case:{case_id}")
        ).all()
    assert actions == ["create", "assign", "start", "resolve", "confirm"]
    assert set(audited) == {"case.add", "case.assign", "case.start", "case.resolve", "case.confirm"}

    # the list shows it with its state; English labels come from the catalogue
    listing = office.get(f"/cases?chain={SCOPED_CHAIN}&state=confirmed").text
    assert f'href="/cases/{case_id}"' in listing
    office.get("/lang/en")
    assert "Enterprise confirms" not in office.get(f"/cases/{case_id}").text  # no button now
    assert "confirmed" in office.get(f"/cases/{case_id}").text


def test_a_stale_edit_gets_the_conflict_and_changes_nothing(world: World) -> None:
    first, second = world.client("office"), world.client("office")
    case_id = raise_case(first, "电力增容申请")
    page_1 = first.get(f"/cases/{case_id}").text
    page_2 = second.get(f"/cases/{case_id}").text
    assert version_on(page_1) == version_on(page_2)
    fields = {"category": "energy", "enterprise_name": "梧州测试糖业有限公司"}

    ok = post(
        first,
        f"/cases/{case_id}/edit",
        page_1,
        version=version_on(page_1),
        title="电力增容申请（10kV）",
        **fields,
    )
    assert ok.status_code == 303
    stale = post(
        second,
        f"/cases/{case_id}/edit",
        page_2,
        version=version_on(page_2),
        title="被覆盖的标题",
        **fields,
    )
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text
    assert case_of(world, case_id).title == "电力增容申请（10kV）"

    # the same for an action: the second assignment from the stale page is refused
    deadline = (local_today() + timedelta(days=7)).isoformat()
    stale = post(
        second,
        f"/cases/{case_id}/assign",
        page_2,
        version=version_on(page_2),
        unit_id=world.units.unit_b,
        deadline=deadline,
    )
    assert stale.status_code == 409
    case = case_of(world, case_id)
    assert case.state == "open" and case.unit_id is None
    # the conflict page shows the case as it is now, with the current version to retry from
    assert version_on(stale.text) == str(case.version)


def test_a_member_unit_cannot_act_on_another_units_case(world: World) -> None:
    office, unit_b = world.client("office"), world.client("unit_b")
    case_id = raise_case(office, "融资担保需求", category="finance")
    deadline = (local_today() + timedelta(days=10)).isoformat()
    assert act(office, case_id, "assign", unit_id=world.units.unit_a, deadline=deadline) == 303
    before = case_of(world, case_id)

    page = unit_b.get(f"/cases/{case_id}")
    assert page.status_code == 200  # same chain: it may look
    assert 'id="act-start"' not in page.text
    refused = unit_b.post(
        f"/cases/{case_id}/start",
        data={"csrf_token": csrf_on(page.text), "version": str(before.version)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "无权" in refused.text
    after = case_of(world, case_id)
    assert (after.state, after.version) == (before.state, before.version)

    # a case on a chain the unit does not serve is not even shown to it
    with world.state.db.session() as session:
        hidden = case_service.add_case(
            session,
            ADMIN,
            title="整车物流",
            source="member",
            category="logistics",
            chain_id=OTHER,
        ).id
    assert unit_b.get(f"/cases/{hidden}").status_code == 403
    assert f'href="/cases/{hidden}"' not in unit_b.get("/cases").text
    assert unit_b.get(f"/cases?chain={OTHER}").status_code == 403


def test_overdue_cases_show_red_and_are_escalated_once(world: World) -> None:
    today = local_today()
    with world.state.db.session() as session:
        late = case_service.add_case(
            session,
            ADMIN,
            title="环评审批超期",
            source="visit",
            category="approvals",
            chain_id=SCOPED_CHAIN,
            enterprise_name="岑溪测试制糖有限公司",
            raised_on=today - timedelta(days=40),
            unit_id=world.units.unit_b,
            deadline=today - timedelta(days=10),
        ).id
        on_time = case_service.add_case(
            session,
            ADMIN,
            title="人才公寓申请",
            source="member",
            category="talent",
            chain_id=SCOPED_CHAIN,
            unit_id=world.units.unit_b,
            deadline=today + timedelta(days=10),
        ).id
    office = world.client("office")
    listing = office.get("/cases").text
    row = re.search(rf'<tr class="([^"]*)">\s*<td class="num">{late}</td>', listing)
    assert row is not None and "wf-red" in row.group(1)
    assert "逾期 10 天" in listing
    calm = re.search(rf'<tr class="([^"]*)">\s*<td class="num">{on_time}</td>', listing)
    assert calm is not None and "wf-red" not in calm.group(1)

    # the chain office's page load escalated it, once
    assert case_of(world, late).escalated_at is not None
    office.get("/cases")
    with world.state.db.session() as session:
        escalations = session.scalars(
            select(CaseChange).where(CaseChange.case_id == late, CaseChange.action == "escalate")
        ).all()
    assert len(escalations) == 1
    assert "逾期督办" in office.get(f"/cases/{late}").text

    only = office.get("/cases?overdue=1").text
    assert f'href="/cases/{late}"' in only and f'href="/cases/{on_time}"' not in only


def test_reopen_and_form_errors_name_the_field(world: World) -> None:
    office, unit_a = world.client("office"), world.client("unit_a")
    case_id = raise_case(office, "物流通道")
    # assigning without a deadline: 422 naming it, nothing changed
    page = office.get(f"/cases/{case_id}").text
    response = post(
        office,
        f"/cases/{case_id}/assign",
        page,
        version=version_on(page),
        unit_id=world.units.unit_a,
        deadline="",
    )
    assert response.status_code == 422
    assert "办理期限" in response.text
    assert case_of(world, case_id).state == "open"
    response = post(
        office,
        f"/cases/{case_id}/assign",
        page,
        version=version_on(page),
        unit_id=world.units.unit_a,
        deadline="2025-13-40",
    )
    assert response.status_code == 422 and "办理期限" in response.text

    deadline = (local_today() + timedelta(days=3)).isoformat()
    assert act(office, case_id, "assign", unit_id=world.units.unit_a, deadline=deadline) == 303
    assert act(unit_a, case_id, "start") == 303
    page = unit_a.get(f"/cases/{case_id}").text
    empty = post(
        unit_a, f"/cases/{case_id}/resolve", page, version=version_on(page), resolution=" "
    )
    assert empty.status_code == 422 and "办理结果" in empty.text
    assert act(unit_a, case_id, "resolve", resolution="已协调绿色通道") == 303
    assert act(office, case_id, "reopen", reason="企业反映仍未通行") == 303
    case = case_of(world, case_id)
    assert case.state == "reopened"
    assert "企业反映仍未通行" in office.get(f"/cases/{case_id}").text

    # raising a case without a title names the field
    form = office.get("/cases/new").text
    missing = post(
        office, "/cases", form, source="member", category="other", chain_id=SCOPED_CHAIN, title=""
    )
    assert missing.status_code == 422 and "标题" in missing.text


def test_viewers_see_cases_but_cannot_raise_them(world: World) -> None:
    viewer = world.client("viewer")
    assert viewer.get("/cases").status_code == 200
    form = viewer.get("/cases/new")
    assert form.status_code == 200 and "disabled" in form.text
    refused = post(
        viewer,
        "/cases",
        form.text,
        title="x",
        source="member",
        category="other",
        chain_id=SCOPED_CHAIN,
    )
    assert refused.status_code == 403
