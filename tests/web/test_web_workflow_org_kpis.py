"""组织 and 考核 pages: the organisation of each chain (chiefs, office, member units, unit
contacts and users) and who may change which part; the KPI tables and score ranking for a
period, with weights that are checked and defaults that are shown."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from tests.web.conftest import PASSWORD, SCOPED_CHAIN
from tests.web.workflow_world import OTHER, World, csrf_on, make_world

from chainatlas.accounts.service import find_user
from chainatlas.settings import Settings
from chainatlas.workflow import cases as case_service
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.assessment import chain_ranking
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import ChainChief, Unit, UnitUser
from chainatlas.workflow.organisation import actor_for

ADMIN = Actor.system("setup")


@pytest.fixture(scope="module")
def world(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("wforg"), web_settings, PASSWORD)


def unit_of(world: World, unit_id: int) -> Unit:
    with world.state.db.session() as session:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        session.expunge(unit)
        return unit


def test_the_organisation_page_and_who_changes_what(world: World) -> None:
    admin, office = world.client("admin"), world.client("office")
    page = admin.get("/org").text
    chain = page.split(f'id="chain-{SCOPED_CHAIN}"')[1].split("</section>")[0]
    assert "甘蔗制糖" in chain and "糖业链长办" in chain
    assert "自然资源局" in chain and "商务局" in chain
    assert f'id="chain-{OTHER}"' in page  # every organised chain, for the administrator
    units = page.split('id="units"')[1]
    assert "王科长" in units and "0774-1234567" in units

    # the chain office sees its own chain only, and adds a chain chief to it
    mine = office.get("/org").text
    assert f'id="chain-{OTHER}"' not in mine
    added = office.post(
        f"/org/chains/{SCOPED_CHAIN}/chiefs",
        data={"csrf_token": csrf_on(mine), "name": "李明", "title": "副市长"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert "李明" in office.get("/org").text
    refused = office.post(
        f"/org/chains/{OTHER}/chiefs",
        data={"csrf_token": csrf_on(mine), "name": "越权", "title": ""},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    with world.state.db.session() as session:
        chiefs = session.query(ChainChief).all()
    assert [(c.chain_id, c.name) for c in chiefs] == [(SCOPED_CHAIN, "李明")]
    assert office.get(f"/org?chain={OTHER}").status_code == 403

    # it edits its own unit's contacts (locked by version), not another unit's
    office_unit = unit_of(world, world.units.office)
    fields = {"name": office_unit.name, "kind": "chain_office", "contact_phone": "0774-8888888"}
    first = office.post(
        f"/org/units/{office_unit.id}",
        data={"csrf_token": csrf_on(mine), "version": str(office_unit.version), **fields},
        follow_redirects=False,
    )
    assert first.status_code == 303
    stale = office.post(
        f"/org/units/{office_unit.id}",
        data={
            "csrf_token": csrf_on(mine),
            "version": str(office_unit.version),
            **fields,
            "contact_phone": "0",
        },
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert unit_of(world, office_unit.id).contact_phone == "0774-8888888"
    other = unit_of(world, world.units.unit_a)
    refused = office.post(
        f"/org/units/{other.id}",
        data={"csrf_token": csrf_on(mine), "version": str(other.version), "name": other.name},
        follow_redirects=False,
    )
    assert refused.status_code == 403

    # only user managers put users into units
    with world.state.db.session() as session:
        viewer = find_user(session, "viewer")
        assert viewer is not None
        viewer_id = viewer.id
    refused = office.post(
        f"/org/units/{world.units.unit_b}/users",
        data={"csrf_token": csrf_on(mine), "user_id": str(viewer_id)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    ok = admin.post(
        f"/org/units/{world.units.unit_b}/users",
        data={"csrf_token": csrf_on(page), "user_id": str(viewer_id)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    with world.state.db.session() as session:
        assert session.get(UnitUser, (world.units.unit_b, viewer_id)) is not None

    # a second chain office for one chain is refused, naming the one it has
    refused = admin.post(
        f"/org/chains/{SCOPED_CHAIN}/units",
        data={
            "csrf_token": csrf_on(page),
            "unit_id": str(world.units.unit_a),
            "role": "chain_office",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "糖业链长办" in refused.text

    # member units and viewers read the organisation; a member unit edits only its own unit
    for role in ("unit_a", "viewer"):
        page = world.client(role).get(f"/org?chain={SCOPED_CHAIN}")
        assert page.status_code == 200 and "糖业链长办" in page.text
        assert 'action="/org/units"' not in page.text  # no new units
        assert f'action="/org/chains/{SCOPED_CHAIN}/units"' not in page.text
    own = world.client("unit_a").get("/org").text
    assert f'action="/org/units/{world.units.unit_a}"' in own
    assert f'action="/org/units/{world.units.office}"' not in own
    assert 'action="/org/units/' not in world.client("viewer").get("/org").text


def test_kpis_rank_chains_and_units_with_checked_weights(world: World) -> None:
    today = local_today()
    with world.state.db.session() as session:
        project_service.add_project(
            session,
            ADMIN,
            name="糖厂扩能",
            investor_name="广西测试糖业集团有限公司",
            chain_id=SCOPED_CHAIN,
            stage="signed",
            unit_id=world.units.unit_a,
            amount_wan=30000,
            signed_on=today,
        )
        case = case_service.add_case(
            session,
            ADMIN,
            title="用电报装",
            source="member",
            category="energy",
            chain_id=SCOPED_CHAIN,
            unit_id=world.units.unit_b,
            deadline=today + timedelta(days=5),
            raised_on=today - timedelta(days=3),
        )
        case_service.start_case(session, ADMIN, case.id, expected_version=None)
        case_service.resolve_case(
            session, ADMIN, case.id, expected_version=None, resolution="已接电"
        )
    start = date(today.year, 1, 1).isoformat()
    office = world.client("office")
    page = office.get(f"/kpis?start={start}&end={today.isoformat()}")
    assert page.status_code == 200
    chains = page.text.split("产业链排名")[1].split("</table>")[0]
    assert "甘蔗制糖" in chains and "新能源汽车" not in chains  # the office's chain only
    cells = re.findall(r'<td class="num">([^<]*)</td>', chains.split("甘蔗制糖")[1])
    assert cells[:2] == ["1", "30,000"]  # projects signed, amount signed (万元)
    units = page.text.split("成员单位排名")[1].split("</table>")[0]
    assert units.index("自然资源局") >= 0 and units.index("商务局") >= 0

    # the page shows what the assessment computes, with the defaults
    with world.state.db.session() as session:
        user = find_user(session, "admin")
        assert user is not None
        expected = chain_ranking(
            session, actor_for(session, user), start=date(today.year, 1, 1), end=today
        )
    admin_page = world.client("admin").get(f"/kpis?start={start}").text
    ranking = admin_page.split("产业链排名")[1].split("</table>")[0]
    for row in expected.iter_rows(named=True):
        assert f"{row['score']:.1f}" in ranking
    assert "默认 15" in admin_page

    # weights: a custom set is applied; a negative or non-numeric one names the metric
    only_amount = {f"w_{m}": "0" for m in ("projects_signed", "cases_resolved")}
    custom = office.get("/kpis", params={**only_amount, "w_amount_signed_wan": "1"})
    assert custom.status_code == 200 and "已调整" in custom.text
    bad = office.get("/kpis", params={"w_on_time_rate": "-2"})
    assert bad.status_code == 422 and "按期办结率" in bad.text
    bad = office.get("/kpis", params={"w_cases_overdue": "abc"})
    assert bad.status_code == 422 and "逾期未办结诉求数" in bad.text
    zeros = office.get("/kpis", params={"w_projects_signed": "0"})
    assert zeros.status_code == 422 and "至少一个指标的权重应大于 0" in zeros.text
    assert office.get("/kpis?start=2025-13-01").status_code == 422
    assert office.get(f"/kpis?chain={OTHER}").status_code == 403


def test_every_workflow_page_speaks_both_languages(world: World) -> None:
    """No message key shows through untranslated, in Chinese or English, on any page."""
    with world.state.db.session() as session:
        case_id = case_service.add_case(
            session,
            ADMIN,
            title="双语检查",
            source="member",
            category="other",
            chain_id=SCOPED_CHAIN,
        ).id
        project_id = project_service.add_project(
            session, ADMIN, name="双语项目", investor_name="某公司", chain_id=SCOPED_CHAIN
        ).id
    admin = world.client("admin")
    form = admin.get("/meetings/new").text
    made = admin.post(
        "/meetings",
        data={"csrf_token": csrf_on(form), "chain_id": SCOPED_CHAIN, "held_on": "2025-06-01"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    pages = [
        "/projects",
        "/projects?view=kanban",
        "/projects/new",
        f"/projects/{project_id}",
        f"/projects/{project_id}/edit",
        f"/projects/{project_id}/stage?to=signed",
        "/cases",
        "/cases/new",
        f"/cases/{case_id}",
        "/meetings",
        "/meetings/new",
        made.headers["location"],
        "/kpis",
        "/org",
    ]
    for lang, sample in (("zh", "链长制"), ("en", "Chain-chief system")):
        admin.get(f"/lang/{lang}")
        for path in pages:
            response = admin.get(path)
            assert response.status_code == 200, (lang, path)
            assert "wf_" not in response.text and "nav_" not in response.text, (lang, path)
            assert sample in response.text, (lang, path)


def test_the_years_assessment_weights_are_saved_once_for_everyone(world: World) -> None:
    admin, office = world.client("admin"), world.client("office")
    year = local_today().year
    page = admin.get(f"/kpis?start={year}-01-01").text
    assert 'id="wf-weights-save"' in page and f"{year} 年度尚未保存考核权重" in page
    assert 'id="wf-weights-save"' not in office.get("/kpis").text  # only an administrator

    # the administrator tries weights in the page, then saves what it computed with
    tried = admin.get(
        "/kpis", params={"start": f"{year}-01-01", "w_projects_signed": "3", "w_on_time_rate": "1"}
    ).text
    form = tried.split('id="wf-weights-save"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))
    assert fields["w_projects_signed"] == "3" and fields["w_cases_resolved"] == "0"
    saved = admin.post("/kpis/weights", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]

    # everyone's page now starts from them, and says whose they are
    shown = office.get(f"/kpis?start={year}-03-01").text
    assert f"{year} 年度考核权重（admin 于" in shown
    assert re.search(r'name="w_projects_signed" value="3"', shown)
    assert re.search(r'name="w_amount_signed_wan" value="0"', shown)
    office.get("/lang/en")
    english = office.get(f"/kpis?start={year}-03-01").text
    office.get("/lang/zh")
    assert f"the {year} assessment weights (saved by admin" in english
    # another year keeps the defaults
    assert f"{year - 1} 年度尚未保存考核权重" in office.get(f"/kpis?start={year - 1}-01-01").text

    # a chain office may not save; a stale form is a conflict; nothing changes either way
    refused = office.post("/kpis/weights", data={**fields, "csrf_token": csrf_on(shown)})
    assert refused.status_code == 403
    stale = admin.post("/kpis/weights", data={**fields, "w_projects_signed": "9"})
    assert stale.status_code == 409 and "刷新" in stale.text
    bad = admin.post("/kpis/weights", data={**fields, "version": "1", "w_on_time_rate": "-1"})
    assert bad.status_code == 422
    assert re.search(
        r'name="w_projects_signed" value="3"', office.get(f"/kpis?start={year}-01-01").text
    )
