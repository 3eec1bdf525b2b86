"""招商 and 机会 pages: the target tables equal `run_targets`, marks (written, audited, shown to
colleagues, hiding the firm from the marker's next list, refused to viewers and without
CSRF), the XLSX export, and the opportunities in the service's order."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import OTHER_CHAIN, REGION, SCOPED_CHAIN, client_for, csrf_of

from chainatlas.accounts.models import User
from chainatlas.db.audit import AuditEntry
from chainatlas.db.marks import TargetMark
from chainatlas.services.opportunities import run_opportunities
from chainatlas.services.targets import run_targets
from chainatlas.settings import Settings
from chainatlas.targets.model import TargetList
from chainatlas.web.state import AppState

PAGE = f"/targets?chain={SCOPED_CHAIN}&region={REGION}"
TABLE = re.compile(r'<table class="data tgt-table" data-node="([^"]+)">(.*?)</table>', re.S)
ROW = re.compile(r'<tr data-uscc="([0-9A-Z]{18})">(.*?)</tr>', re.S)


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.chainatlas
    return state


def tables(html: str) -> dict[str, list[str]]:
    """Node id → the listed credit codes, in page order."""
    return {node: [u for u, _ in ROW.findall(body)] for node, body in TABLE.findall(html)}


def row_html(html: str, node: str, uscc: str) -> str:
    body = dict(TABLE.findall(html))[node]
    return dict(ROW.findall(body))[uscc]


@pytest.fixture(scope="module")
def reference(web_settings: Settings, web_app: FastAPI) -> TargetList:
    state = state_of(web_app)
    return run_targets(
        web_settings, state.atlas, REGION, SCOPED_CHAIN, weights=web_settings.targets
    )


@pytest.fixture()
def office(web_app: FastAPI) -> Iterator[TestClient]:
    """链长办 of the scoped chain: may mark targets of that chain only."""
    with client_for(web_app, "chain_office") as client:
        yield client


def test_the_page_lists_run_targets_ranking(web_app: FastAPI, reference: TargetList) -> None:
    with client_for(web_app, "viewer") as viewer:
        page = viewer.get(PAGE)
    assert page.status_code == 200
    listed = tables(page.text)
    expected = {n.id: [t.uscc for t in n.targets] for n in reference.nodes if n.targets}
    assert expected and listed == expected
    node = next(n for n in reference.nodes if n.targets)
    first = node.targets[0]
    row = row_html(page.text, node.id, first.uscc)
    assert first.name in row and f'href="/enterprises/{first.uscc}"' in row
    assert f"{first.score:.3f}" in row and first.reason_zh in row
    assert first.region_name in row
    # viewers see the list but no marking form and no way to open a project
    assert 'action="/targets/mark"' not in page.text and "/projects/new?" not in page.text


def test_a_target_opens_a_project_form_that_keeps_where_it_came_from(
    office: TestClient, reference: TargetList
) -> None:
    page = office.get(PAGE).text
    node = next(n for n in reference.nodes if n.targets)
    first = node.targets[0]
    row = row_html(page, node.id, first.uscc)
    link = row.split('class="btn small ghost tgt-new-project noprint" href="', 1)[1].split('"')[0]
    link = link.replace("&amp;", "&")
    assert f"uscc={first.uscc}" in link and f"node={node.id}" in link
    form = office.get(link)
    assert form.status_code == 200
    assert f'name="investor_uscc" value="{first.uscc}"' in form.text
    assert f'name="investor_name" value="{first.name}"' in form.text
    assert f'type="hidden" name="target_node_id" value="{node.id}"' in form.text
    assert f'type="hidden" name="target_region_code" value="{REGION}"' in form.text


def test_the_page_speaks_english_too(web_app: FastAPI, reference: TargetList) -> None:
    node = next(n for n in reference.nodes if n.targets)
    with client_for(web_app, "viewer") as viewer:
        viewer.get("/lang/en")
        page = viewer.get(PAGE + f"&node={node.id}")
    assert list(tables(page.text)) == [node.id]
    row = row_html(page.text, node.id, node.targets[0].uscc)
    assert node.targets[0].reason_en in row and "Partner referral" in page.text


def mark(client: TestClient, uscc: str, node: str, kind: str, **extra: str) -> Any:
    data = {
        "csrf_token": csrf_of(client, PAGE),
        "uscc": uscc,
        "chain": SCOPED_CHAIN,
        "region": REGION,
        "node": node,
        "kind": kind,
        **extra,
    }
    return client.post("/targets/mark", data=data, follow_redirects=False)


def test_marking_is_stored_audited_shared_and_hides_the_firm_from_the_marker(
    web_app: FastAPI, office: TestClient, analyst: TestClient, reference: TargetList
) -> None:
    state = state_of(web_app)
    node = next(n for n in reference.nodes if len(n.targets) > 1)
    target, runner_up = node.targets[0].uscc, node.targets[1].uscc
    response = mark(office, target, node.id, "contacted", note="已电话联系<b>")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/targets?chain=")
    try:
        with state.db.session() as session:
            marker = session.scalar(select(User).where(User.username == "chain_office"))
            assert marker is not None
            marks = session.scalars(select(TargetMark).where(TargetMark.uscc == target)).all()
            assert [
                (m.user_id, m.kind, m.region_code, m.chain_id, m.node_id, m.note) for m in marks
            ] == [(marker.id, "contacted", REGION, SCOPED_CHAIN, node.id, "已电话联系<b>")]
            entry = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "target.mark")
                .order_by(AuditEntry.id.desc())
            ).first()
            assert entry is not None and entry.username == "chain_office"
            assert entry.target == f"{REGION}/{SCOPED_CHAIN}/{target}"
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        # a colleague still sees the firm, with who marked it how and when
        seen = analyst.get(PAGE).text
        row = row_html(seen, node.id, target)
        assert "chain_office" in row and "已联系" in row and today in row
        assert "&lt;b&gt;" in row and "已电话联系<b>" not in row
        # the marker's own list leaves it out (the next firm moves up) …
        mine = office.get(PAGE).text
        assert target not in tables(mine)[node.id]
        assert tables(mine)[node.id][0] == runner_up
        assert "已隐藏我标记过的 1 家企业" in mine
        # … unless they ask to see marked firms
        shown = office.get(PAGE + "&show_marked=true").text
        assert tables(shown)[node.id][0] == target
        assert "清除标记" in row_html(shown, node.id, target)
    finally:
        cleared = mark(office, target, node.id, "clear")
        assert cleared.status_code == 303
    with state.db.session() as session:
        assert session.scalars(select(TargetMark).where(TargetMark.uscc == target)).all() == []
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first()
        assert actions == "target.unmark"
    assert tables(office.get(PAGE).text)[node.id][0] == target
    assert "chain_office" not in row_html(analyst.get(PAGE).text, node.id, target)


def test_htmx_marking_answers_with_the_marks_cell(
    web_app: FastAPI, office: TestClient, reference: TargetList
) -> None:
    node = next(n for n in reference.nodes if n.targets)
    target = node.targets[-1].uscc
    token = csrf_of(office, PAGE)
    data = {"uscc": target, "chain": SCOPED_CHAIN, "region": REGION, "node": node.id}
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    try:
        cell = office.post("/targets/mark", data=data | {"kind": "not_relevant"}, headers=headers)
        assert cell.status_code == 200
        assert cell.text.lstrip().startswith(f'<td class="tgt-marks" id="marks-{node.id}-{target}"')
        assert "不相关" in cell.text and "chain_office" in cell.text
    finally:
        office.post("/targets/mark", data=data | {"kind": "clear"}, headers=headers)
    with state_of(web_app).db.session() as session:
        assert session.scalars(select(TargetMark).where(TargetMark.uscc == target)).all() == []


def test_marking_is_refused_to_viewers_without_csrf_and_off_chain(
    web_app: FastAPI, office: TestClient, reference: TargetList
) -> None:
    state = state_of(web_app)
    node = next(n for n in reference.nodes if n.targets)
    target = node.targets[0].uscc

    def count() -> int:
        with state.db.session() as session:
            return len(session.scalars(select(TargetMark)).all())

    before = count()
    with client_for(web_app, "viewer") as viewer:
        assert mark(viewer, target, node.id, "contacted").status_code == 403
    no_token = office.post(
        "/targets/mark",
        data={"uscc": target, "chain": SCOPED_CHAIN, "region": REGION, "kind": "contacted"},
    )
    assert no_token.status_code == 403 and "表单已过期" in no_token.text
    other = mark(office, target, "", "contacted", chain=OTHER_CHAIN)
    assert other.status_code == 403
    assert office.get(f"/targets?chain={OTHER_CHAIN}&region={REGION}").status_code == 403
    assert office.get(f"/targets/export?chain={OTHER_CHAIN}&region={REGION}").status_code == 403
    bad = mark(office, target, node.id, "hidden")
    assert bad.status_code == 422 and "标记" in bad.text
    assert count() == before


def test_the_export_holds_the_target_rows(web_app: FastAPI, reference: TargetList) -> None:
    with client_for(web_app, "viewer") as viewer:
        response = viewer.get(f"/targets/export?chain={SCOPED_CHAIN}&region={REGION}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="targets-450400-sugarcane.xlsx"')
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert encoded.isascii()
    assert unquote(encoded) == "广西壮族自治区梧州市·甘蔗制糖招商目标企业.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book["目标企业"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    codes = [r[header.index("统一社会信用代码")] for r in body]
    assert codes == [t.uscc for n in reference.nodes for t in n.targets]
    assert {"环节", "参数"} <= set(book.sheetnames)


def test_opportunities_follow_the_service_order(
    web_app: FastAPI, web_settings: Settings, admin: TestClient
) -> None:
    state = state_of(web_app)
    expected = run_opportunities(web_settings, state.atlas, REGION)
    page = admin.get(f"/opportunities?region={REGION}")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-rank="(\d+)" data-chain="([^"]*)" data-node="([^"]*)">', page.text)
    assert rows == [(str(o.rank), o.chain_id, o.node_id or "") for o in expected.items]
    assert expected.items and expected.items[0].reason_zh in page.text
    chart = json.loads(page.text.split('id="opp-chart-data">')[1].split("</script>")[0])
    plotted = [o for o in expected.items if o.density is not None and o.cog is not None]
    assert [p["rank"] for p in chart["points"]] == [o.rank for o in plotted]
    assert {p["kind"] for p in chart["points"]} <= {"build", "extend", "fill"}
    assert chart["points"][0]["x"] == plotted[0].density
    # a scoped user sees only their chain's rows, in the same order
    with client_for(web_app, "chain_office") as office:
        mine = office.get(f"/opportunities?region={REGION}")
        assert office.get(f"/opportunities?region={REGION}&chain={OTHER_CHAIN}").status_code == 403
    scoped = re.findall(r'<tr data-rank="(\d+)" data-chain="([^"]*)"', mine.text)
    assert scoped == [
        (str(o.rank), o.chain_id) for o in expected.items if o.chain_id == SCOPED_CHAIN
    ]
