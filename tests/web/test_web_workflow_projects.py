"""项目 pages: create, table and kanban views, stage moves (a missing required field is a 422
naming it, in Chinese and English), the project page with its stage history, edits with
optimistic locking, the XLSX export (Chinese file name) that imports back, and an import
with bad rows that shows the problems and writes nothing."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.workflow_world import OTHER, World, csrf_on, make_world, version_on

from chainatlas.settings import Settings
from chainatlas.workflow.models import Project, ProjectStageChange

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("wfprojects"), web_settings, PASSWORD)


def project_of(world: World, project_id: int) -> Project:
    with world.state.db.session() as session:
        project = session.get(Project, project_id)
        assert project is not None
        session.expunge(project)
        return project


def project_count(world: World) -> int:
    with world.state.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Project)) or 0)


def create(client: TestClient, name: str, **fields: str) -> int:
    form = client.get("/projects/new")
    assert form.status_code == 200
    response = client.post(
        "/projects",
        data={
            "csrf_token": csrf_on(form.text),
            "name": name,
            "investor_name": "广西测试糖业集团有限公司",
            "chain_id": SCOPED_CHAIN,
            **fields,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:1000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def move(client: TestClient, project_id: int, to: str, **fields: str) -> Any:
    page = client.get(f"/projects/{project_id}/stage?to={to}").text  # the move's own form
    return client.post(
        f"/projects/{project_id}/stage",
        data={"csrf_token": csrf_on(page), "version": version_on(page), "to": to, **fields},
        follow_redirects=False,
    )


def test_create_move_on_the_kanban_and_see_the_history(world: World) -> None:
    office = world.client("office")
    project_id = create(office, "10 万吨精制糖扩建项目", amount_wan="52000")
    kanban = office.get("/projects?view=kanban").text
    lead_column = kanban.split('class="wf-column wf-col-lead"')[1].split("</section>")[0]
    assert "10 万吨精制糖扩建项目" in lead_column
    # the card offers the moves allowed from 线索; negotiating needs a unit, so it asks
    assert f"/projects/{project_id}/stage?to=negotiating" in lead_column

    # signing without the unit and signing date: 422 naming both, nothing changed
    refused = move(office, project_id, "signed")
    assert refused.status_code == 422
    assert "责任单位" in refused.text and "签约日期" in refused.text
    assert "投资额" not in refused.text.split('role="alert"')[1].split("</p>")[0]
    assert project_of(world, project_id).stage == "lead"
    office.get("/lang/en")
    refused = move(office, project_id, "signed", amount_wan="52000")
    assert refused.status_code == 422 and "signing date" in refused.text
    office.get("/lang/zh")

    # the small form asks exactly for what is missing
    ask = office.get(f"/projects/{project_id}/stage?to=signed").text
    assert 'name="signed_on"' in ask and 'name="unit_id"' in ask
    assert 'name="amount_wan"' not in ask  # it is filled in already

    moved = move(
        office, project_id, "signed", unit_id=str(world.units.unit_a), signed_on="2025-05-26"
    )
    assert moved.status_code == 303
    project = project_of(world, project_id)
    assert (project.stage, project.unit_id, str(project.signed_on)) == (
        "signed",
        world.units.unit_a,
        "2025-05-26",
    )
    page = office.get(f"/projects/{project_id}").text
    history = page.split("阶段变更记录")[1]
    assert "线索" in history and "签约" in history and "office" in history

    # on hold needs a reason
    refused = move(office, project_id, "on_hold")
    assert refused.status_code == 422 and "原因" in refused.text
    assert move(office, project_id, "on_hold", stage_note="企业融资未到位").status_code == 303
    with world.state.db.session() as session:
        moves = session.scalars(
            select(ProjectStageChange.to_stage)
            .where(ProjectStageChange.project_id == project_id)
            .order_by(ProjectStageChange.id)
        ).all()
    assert moves == ["lead", "signed", "on_hold"]

    # the table view filters by stage and unit
    table = office.get(f"/projects?stage=on_hold&unit={world.units.unit_a}").text
    assert f'href="/projects/{project_id}"' in table
    assert f'href="/projects/{project_id}"' not in office.get("/projects?stage=lead").text

    # a move that needs nothing more is a button on the kanban card, back to the kanban
    ready = create(office, "糖厂技改项目", unit_id=str(world.units.unit_b))
    card = office.get("/projects?view=kanban").text.split(f'id="project-{ready}"')[1]
    card = card.split("</article>")[0]
    assert f"/projects/{ready}/stage?to=negotiating" not in card  # no form to fill in
    assert 'name="to" value="negotiating"' in card
    response = office.post(
        f"/projects/{ready}/stage?back=kanban",
        data={"csrf_token": csrf_on(card), "version": version_on(card), "to": "negotiating"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects?view=kanban"
    assert project_of(world, ready).stage == "negotiating"


def test_edits_are_locked_and_rights_follow_the_units(world: World) -> None:
    office, unit_a, unit_b = (world.client(u) for u in ("office", "unit_a", "unit_b"))
    project_id = create(
        office, "蔗渣综合利用项目", unit_id=str(world.units.unit_a), stage="negotiating"
    )
    first = unit_a.get(f"/projects/{project_id}/edit").text
    second = unit_a.get(f"/projects/{project_id}/edit").text
    fields = {
        "name": "蔗渣综合利用项目",
        "investor_name": "广西测试糖业集团有限公司",
        "chain_id": SCOPED_CHAIN,
        "unit_id": str(world.units.unit_a),
    }
    ok = unit_a.post(
        f"/projects/{project_id}",
        data={
            "csrf_token": csrf_on(first),
            "version": version_on(first),
            **fields,
            "park": "苍梧园区",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    stale = unit_a.post(
        f"/projects/{project_id}",
        data={
            "csrf_token": csrf_on(second),
            "version": version_on(second),
            **fields,
            "park": "被覆盖",
        },
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert project_of(world, project_id).park == "苍梧园区"

    # 商务局 is not responsible for it: it sees the project (same chain) but cannot edit it
    page = unit_b.get(f"/projects/{project_id}")
    assert page.status_code == 200 and f"/projects/{project_id}/edit" not in page.text
    refused = unit_b.post(
        f"/projects/{project_id}",
        data={
            "csrf_token": csrf_on(page.text),
            "version": version_on(first),
            **fields,
            "park": "x",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert project_of(world, project_id).park == "苍梧园区"
    # a chain office of another chain cannot add a project to this one
    nev = world.client("nev_office")
    form = nev.get("/projects/new").text
    refused = nev.post(
        "/projects", data={"csrf_token": csrf_on(form), **fields}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert nev.get(f"/projects?chain={SCOPED_CHAIN}").status_code == 403
    assert nev.get(f"/projects/{project_id}").status_code == 403


def test_the_export_imports_back_and_a_bad_sheet_writes_nothing(world: World) -> None:
    office = world.client("office")
    create(office, "冷链物流中心", unit_id=str(world.units.unit_b), stage="negotiating")
    create(office, "甘蔗机收服务站", amount_wan="1800")

    export = office.get(f"/projects/export.xlsx?chain={SCOPED_CHAIN}")
    assert export.status_code == 200 and export.headers["content-type"] == XLSX
    disposition = export.headers["content-disposition"]
    assert "filename*=UTF-8''" in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("甘蔗制糖招商项目库") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] is not None]
    assert {r[1] for r in rows} >= {"冷链物流中心", "甘蔗机收服务站"}
    before = project_count(world)

    page = office.get("/projects").text
    response = office.post(
        "/projects/import",
        data={"csrf_token": csrf_on(page)},
        files={"file": ("项目台账.xlsx", export.content, XLSX)},
    )
    assert response.status_code == 200, response.text[:1000]
    assert f"新建 0 个项目，更新 {len(rows)} 个项目" in response.text
    assert project_count(world) == before

    # one good new row and two bad ones: the problems as a table, nothing written
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["项目名称", "投资方", "产业链", "阶段", "投资额（万元）", "签约日期"])
    ws.append(["新增糖蜜酒精项目", "梧州测试酒精有限公司", "甘蔗制糖", "线索", None, None])
    ws.append(["", "无名项目投资方", "甘蔗制糖", "线索", None, None])
    ws.append(["签约缺日期项目", "某投资方", "没有这条链", "签约", "abc", None])
    data = io.BytesIO()
    book.save(data)
    bad = office.post(
        "/projects/import",
        data={"csrf_token": csrf_on(page)},
        files={"file": ("bad.xlsx", data.getvalue(), XLSX)},
    )
    assert bad.status_code == 422
    table = bad.text.split('class="data wf-problems"')[1].split("</table>")[0]
    cells = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td>", table)
    assert ("3", "项目名称") in cells  # the row without a name, as Excel numbers it
    assert ("4", "产业链") in cells and ("4", "投资额（万元）") in cells
    assert not any(row == "2" for row, _field in cells)  # the good row has no problem
    assert "未导入任何项目" in bad.text
    assert project_count(world) == before

    # a viewer may not import at all
    viewer = world.client("viewer")
    refused = viewer.post(
        "/projects/import",
        data={"csrf_token": csrf_on(viewer.get("/projects").text)},
        files={"file": ("项目台账.xlsx", export.content, XLSX)},
    )
    assert refused.status_code == 403
    assert project_count(world) == before


def test_filters_are_checked(world: World) -> None:
    admin = world.client("admin")
    assert admin.get("/projects?stage=nonsense").status_code == 422
    assert admin.get("/projects?chain=no_such_chain").status_code == 422
    assert admin.get("/projects?unit=abc").status_code == 422
    assert admin.get(f"/projects?chain={OTHER}&view=kanban").status_code == 200
    nodes = admin.get(f"/projects/nodes?chain_id={SCOPED_CHAIN}").text
    assert admin.get(f"/projects/nodes?chain={SCOPED_CHAIN}").text == nodes
    assert 'name="node_id"' in nodes and "甘蔗" in nodes


def test_a_target_becomes_a_project_that_keeps_its_origin(world: World) -> None:
    with world.state.warehouse.read() as wh:
        firm = wh.sql(
            "SELECT uscc, name, node_id FROM chain_firms WHERE chain_id = ? AND city_code <> ? "
            "ORDER BY uscc LIMIT 1",
            [SCOPED_CHAIN, "450400"],
        ).row(0, named=True)
    office = world.client("office")
    query = f"chain={SCOPED_CHAIN}&node={firm['node_id']}&uscc={firm['uscc']}&region=450400"
    form = office.get(f"/projects/new?{query}")
    assert form.status_code == 200
    page = form.text
    assert f'name="investor_name" value="{firm["name"]}"' in page
    assert f'name="investor_uscc" value="{firm["uscc"]}"' in page
    assert 'id="wf-from-target"' in page and "梧州市" in page
    hidden = dict(re.findall(r'type="hidden" name="(target_[a-z_]+)" value="([^"]*)"', page))
    assert hidden == {
        "target_region_code": "450400",
        "target_chain_id": SCOPED_CHAIN,
        "target_node_id": firm["node_id"],
    }
    response = office.post(
        "/projects",
        data={
            "csrf_token": csrf_on(page),
            "name": f"{firm['name']}落地项目",
            "investor_name": firm["name"],
            "investor_uscc": firm["uscc"],
            "chain_id": SCOPED_CHAIN,
            "node_id": firm["node_id"],
            **hidden,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    project = project_of(world, int(response.headers["location"].rsplit("/", 1)[1]))
    assert (project.target_region_code, project.target_chain_id, project.target_node_id) == (
        "450400",
        SCOPED_CHAIN,
        firm["node_id"],
    )
    assert project.investor_uscc == firm["uscc"]
    shown = office.get(response.headers["location"]).text
    assert "/targets?chain=" in shown and "region=450400" in shown  # back to its list
    # a credit code the warehouse does not hold: no form pretending it does
    missing = office.get(f"/projects/new?chain={SCOPED_CHAIN}&uscc=91450400MA5L000000")
    assert missing.status_code == 404
    # a plain new project carries no origin
    assert 'id="wf-from-target"' not in office.get("/projects/new").text
