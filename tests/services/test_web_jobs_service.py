"""The web jobs' bodies and file handling, on a toy warehouse behind the web's gate."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest
from tests.conftest import toy_firms

from chainatlas.atlas import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services import web_jobs
from chainatlas.services.load import load_enterprises
from chainatlas.services.web_jobs import (
    check_upload,
    load_upload,
    produced_file,
    reclassify,
    safe_file_name,
    save_upload,
    warehouse_freshness,
    zip_files,
)
from chainatlas.settings import Settings
from chainatlas.synth.uscc import uscc_check_char
from chainatlas.web.warehouse_gate import WarehouseGate


@pytest.fixture()
def settings(tmp_path: Path, toy_chain: Chain) -> Settings:
    s = Settings(home=tmp_path / "home")
    with Warehouse(s.warehouse_path) as wh:
        load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    return s


def code(serial: int) -> str:
    first = f"91450400MA5Q{serial:05d}"
    return first + uscc_check_char(first)


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\王\\企业名录 2024.CSV", "企业名录_2024.csv"),
        (".hidden.xlsx", "hidden.xlsx"),
        ("..", "upload"),
        ("名录;rm -rf $HOME.parquet", "名录_rm_-rf_HOME.parquet"),
    ],
)
def test_safe_file_name_keeps_a_plain_name(client_name: str, expected: str) -> None:
    assert safe_file_name(client_name) == expected
    assert safe_file_name(expected) == expected


def test_a_long_name_is_cut_but_keeps_its_suffix() -> None:
    name = safe_file_name("企" * 300 + ".xlsx")
    assert name.endswith(".xlsx") and len(name) <= 120


@pytest.mark.parametrize(
    ("name", "kind", "size", "field"),
    [
        ("a.csv", "firms", 10, "kind"),
        ("a.exe", "enterprises", 10, "file"),
        ("a", "links", 10, "file"),
        ("a.csv", "enterprises", 0, "file"),
        ("a.csv", "enterprises", web_jobs.MAX_UPLOAD_BYTES + 1, "file"),
    ],
)
def test_check_upload_names_the_field(name: str, kind: str, size: int, field: str) -> None:
    with pytest.raises(UserError) as err:
        check_upload(name, kind, size)
    assert field in err.value.message_zh and field in err.value.message_en


def test_save_upload_refuses_empty_and_oversized_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = save_upload(tmp_path, 7, "../x.csv", io.BytesIO(b"a,b\n"))
    assert saved == tmp_path / "uploads" / "7" / "x.csv" and saved.read_bytes() == b"a,b\n"
    with pytest.raises(UserError):
        save_upload(tmp_path, 8, "y.csv", io.BytesIO(b""))
    monkeypatch.setattr(web_jobs, "MAX_UPLOAD_BYTES", 5)
    monkeypatch.setattr(web_jobs, "_COPY_BLOCK", 2)
    with pytest.raises(UserError) as err:
        save_upload(tmp_path, 9, "z.csv", io.BytesIO(b"123456"))
    assert "过大" in err.value.message_zh
    assert not (tmp_path / "uploads" / "9" / "z.csv").exists()


def test_load_upload_reports_progress_and_loads_only_good_rows(
    settings: Settings, toy_chain: Chain
) -> None:
    folder = settings.home / "uploads" / "1"
    folder.mkdir(parents=True)
    file = folder / "firms.csv"
    bad = code(3)[:-1] + ("1" if code(3)[-1] != "1" else "2")
    file.write_text(
        "统一社会信用代码,企业名称,行政区划代码,经营范围\n"
        f"{code(1)},甲一,450403,乙件制造\n{code(2)},甲二,440106,丙品组装\n{bad},坏,450403,乙件制造\n",
        "utf-8",
    )
    gate = WarehouseGate(settings.warehouse_path)
    reports: list[tuple[float, str]] = []
    summary = load_upload(
        settings, {"toy": toy_chain}, gate, file, "enterprises", lambda f, s: reports.append((f, s))
    )
    assert (summary["accepted"], summary["rejected"], summary["loaded"]) == (2, 1, 2)
    assert summary["error_file"] == "firms.csv.errors.csv" and summary["file"] == "firms.csv"
    assert (folder / "firms.csv.errors.csv").is_file()
    stages = [s for _, s in reports]
    assert stages[0] == "validate" and {"classify", "write", "cube"} <= set(stages)
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    with gate.read() as wh:
        found = wh.sql("SELECT uscc FROM enterprises WHERE uscc LIKE '91450400MA5Q%'")
        assert sorted(found["uscc"].to_list()) == [code(1), code(2)]
        freshness = warehouse_freshness(wh)
    assert freshness.counts["enterprises"] == toy_firms().height + 2
    assert freshness.last_year == 2020  # the toy's deregistration in 2020 is the latest date
    assert freshness.modified is not None and freshness.last_link_year is None
    gate.close()


def test_readers_wait_for_a_load_and_see_it_whole(settings: Settings, toy_chain: Chain) -> None:
    """The load holds the gate exclusively: a reader that starts during it sees the result."""
    gate = WarehouseGate(settings.warehouse_path)
    file = settings.home / "links.csv"
    file.write_text(f"供应商统一社会信用代码,客户统一社会信用代码,年份\n{code(1)},{code(2)},2024\n")
    started, seen = threading.Event(), []

    def progress(fraction: float, stage: str) -> None:
        if stage == "write" and not started.is_set():
            started.set()
            reader.start()

    def read() -> None:
        with gate.read() as wh:
            seen.append(wh.count("supply_links"))

    reader = threading.Thread(target=read)
    summary = load_upload(settings, {"toy": toy_chain}, gate, file, "links", progress)
    reader.join(30)
    assert summary["loaded"] == 1 and seen == [1]
    gate.close()


def test_reclassify_rebuilds_every_assignment(settings: Settings, toy_chain: Chain) -> None:
    gate = WarehouseGate(settings.warehouse_path)
    with gate.read() as wh:
        before = wh.sql("SELECT uscc, node_id FROM assignments ORDER BY ALL")
    result = reclassify(settings, {"toy": toy_chain}, gate)
    with gate.read() as wh:
        after = wh.sql("SELECT uscc, node_id FROM assignments ORDER BY ALL")
    assert result["enterprises"] == toy_firms().height
    assert result["assignments"] == after.height and after.equals(before)
    gate.close()


def test_produced_files_only(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "a.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "pack" / "stray.txt").write_text("not produced")
    (tmp_path / "secret").write_text("outside")
    produced = ["a.pdf", "../secret", "missing.png"]
    out = tmp_path / "pack"
    assert produced_file(out, produced, "a.pdf") == out / "a.pdf"
    assert produced_file(out, produced, "../secret") is None
    assert produced_file(out, produced, "stray.txt") is None
    assert produced_file(out, produced, "missing.png") is None
    with zipfile.ZipFile(io.BytesIO(zip_files(out, produced))) as archive:
        assert archive.namelist() == ["a.pdf"] and archive.read("a.pdf") == b"%PDF-1.7"
