"""The briefing pack's 招商项目清单 filled from the chain-chief projects pipeline of the app
database: the region's projects of the chain, furthest stage first, lost ones left out —
and still the template when there is no pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from tests.conftest import toy_firms

from chainatlas.atlas import Chain
from chainatlas.briefing import pack as P
from chainatlas.briefing.pack_xlsx import pack_xlsx
from chainatlas.db.migrate import upgrade
from chainatlas.db.session import Database
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.ingest.validators import make_uscc
from chainatlas.services.briefing import chain_projects
from chainatlas.services.load import load_enterprises
from chainatlas.settings import Settings
from chainatlas.workflow import organisation as org
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Actor
from chainatlas.workflow.models import STAGE_NAMES

SETUP = Actor.system("setup")
WHEN = dt.datetime(2025, 6, 1, 9, 30)
# a valid credit code registered in 440106 (广州市天河区)
INVESTOR = make_uscc("440106", 7)


@pytest.fixture()
def settings(tmp_path: Path, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path / "home")
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    return s


def _pipeline(settings: Settings, toy_chain: Chain) -> None:
    upgrade(settings.app_database_url)
    database = Database(settings.app_database_url)
    chains = {"toy": toy_chain}
    with database.session() as s:
        unit = org.add_unit(s, SETUP, "商务局", "member_unit", contact_person="陈工")
        s.flush()
        common: dict[str, Any] = {"chain_id": "toy", "chains": chains}
        project_service.add_project(
            s,
            SETUP,
            name="乙件扩产",
            investor_name="广州乙一",
            node_id="b",
            amount_wan=5000,
            unit_id=unit.id,
            region_code="450403",
            **common,
        )
        project_service.add_project(
            s,
            SETUP,
            name="乙件新厂",
            investor_name="广州乙二",
            node_id="b",
            amount_wan=800,
            investor_uscc=INVESTOR,
            **common,
        )
        project_service.add_project(
            s, SETUP, name="外市项目", investor_name="某公司", region_code="440106", **common
        )
        project_service.add_project(
            s, SETUP, name="别链项目", investor_name="某公司", chain_id="other"
        )
        lost = project_service.add_project(
            s, SETUP, name="已流失", investor_name="某公司", node_id="c", **common
        )
        s.flush()
        project_service.change_stage(
            s, SETUP, lost.id, "lost", stage_note="对方改投他处", expected_version=lost.version
        )
    database.dispose()


def test_the_pack_names_the_pipeline_stages() -> None:
    assert dict(P.PROJECT_STAGES) == {str(k): v for k, v in STAGE_NAMES.items()}


def test_no_app_database_gives_the_template_and_creates_nothing(settings: Settings) -> None:
    assert chain_projects(settings, "toy", "450400") is None
    assert not (settings.home / "app.db").exists()
    empty = Chain(id="x", name_zh="空", name_en="empty", nodes=(), edges=())
    assert P.project_list(None, empty, "zh").columns == [c.id for c in P.PROJECT_COLUMNS]
    assert P.project_list(None, empty, "zh").height == 0


def test_projects_of_the_chain_and_region(settings: Settings, toy_chain: Chain) -> None:
    _pipeline(settings, toy_chain)
    found = chain_projects(settings, "toy", "450400")
    assert found is not None
    assert sorted(found["name"].to_list()) == ["乙件扩产", "乙件新厂", "已流失"]
    row = found.filter(pl.col("name") == "乙件新厂").row(0, named=True)
    assert row["investor_region"] == "440106" and row["stage"] == "lead"
    listed = P.project_list(found, toy_chain, "zh")
    # lost left out; same stage (lead): larger investment first
    assert listed["project"].to_list() == ["乙件扩产", "乙件新厂"]
    first = listed.row(0, named=True)
    assert first["unit"] == "商务局" and first["contact"] == "陈工"
    assert first["stage"] == "线索" and first["investment"] == 5000.0
    assert first["node"] == toy_chain.node("b").name_zh
    assert listed.row(1, named=True)["investor_location"] == "广东省广州市天河区"
    english = P.project_list(found, toy_chain, "en")
    assert english["stage"].to_list() == ["lead", "lead"]
    # a project without a region lands in the deployment's own (450400); a province takes
    # its cities' projects; another city's are not listed
    assert chain_projects(settings, "toy", "440100")["name"].to_list() == ["外市项目"]  # type: ignore[index]
    assert len(chain_projects(settings, "toy", "450000")) == 3  # type: ignore[arg-type]


def test_signed_before_lead_and_the_sheet_holds_the_rows(
    settings: Settings, toy_chain: Chain, tmp_path: Path
) -> None:
    _pipeline(settings, toy_chain)
    database = Database(settings.app_database_url)
    with database.session() as s:
        small = next(p for p in project_service.list_projects(s, SETUP) if p.name == "乙件新厂")
        unit = org.find_unit(s, "商务局")
        assert unit is not None
        project_service.change_stage(
            s, SETUP, small.id, "negotiating", expected_version=small.version, unit_id=unit.id
        )
    database.dispose()
    found = chain_projects(settings, "toy", "450400")
    with Warehouse(settings.warehouse_path, read_only=True) as wh:
        diagnosis = diagnose(wh, toy_chain, "450400")
    pack = P.assemble_pack(
        toy_chain,
        diagnosis,
        pl.DataFrame(schema={"region_code": pl.String, "firm_count": pl.Int64}),
        maps=["panorama"],
        lists=["projects"],
        generated_at=WHEN,
        projects=found,
    )
    book = openpyxl.load_workbook(pack_xlsx(pack, tmp_path / "lists.xlsx"))
    ws = book["招商项目清单"]
    assert [c.value for c in ws[1]] == [c.zh for c in P.PROJECT_COLUMNS]
    # 洽谈 ranks before 线索 though its investment is smaller
    assert [ws.cell(r, 2).value for r in (2, 3)] == ["乙件新厂", "乙件扩产"]
    assert [ws.cell(r, 7).value for r in (2, 3)] == ["洽谈", "线索"]
    assert ws.cell(4, 2).value is None
    overview = book.worksheets[0]
    notes = [str(c.value) for row in overview.iter_rows() for c in row if c.value]
    assert not any(n.startswith("模板：") and "招商项目" in n for n in notes)
