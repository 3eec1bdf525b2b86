"""The command line, end to end, as a user runs it (subprocesses, real files)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from chainatlas.ingest.validators import make_uscc

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属地区",
    "行业代码",
    "成立日期",
    "注册资本(万元)",
    "经营范围",
    "主营产品",
    "企业标签",
]


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainatlas", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CHAINATLAS_HOME": str(home), **env},
        timeout=300,
    )


def write_firms(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def good_rows(n: int, start: int = 1, region: str = "450403") -> list[list[str]]:
    return [
        [
            make_uscc(region, start + i),
            f"梧州测试糖业{start + i}有限公司",
            region,
            "1340",
            "2012-05-01",
            str(100 + i),
            "甘蔗制糖；白砂糖生产",
            "白砂糖",
            "",
        ]
        for i in range(n)
    ]


def test_chains_list_show_validate(tmp_path: Path) -> None:
    listing = json.loads(run(["chains", "list", "--format", "json"], tmp_path).stdout)
    assert len(listing) >= 14 and all(c["nodes"] >= 15 for c in listing)
    chain = json.loads(run(["chains", "show", "sugarcane", "--format", "json"], tmp_path).stdout)
    assert chain["schema"] == "chainatlas.chain/1" and len(chain["nodes"]) >= 15
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nname_zh: 坏\nname_en: Bad\nnodes:\n"
        "  - {id: a, name_zh: 甲, name_en: A, stage: upstream}\n"
        "edges:\n  - {supplier: a, customer: ghost}\n",
        "utf-8",
    )
    result = run(["chains", "validate", str(bad)], tmp_path)
    assert result.returncode == 1
    assert f"{bad}:7: edges[0].customer" in result.stderr and "ghost" in result.stderr


def test_ingest_reports_bad_rows_and_loads_the_good_ones(tmp_path: Path) -> None:
    rows = good_rows(3)
    rows.append(
        ["91450400MA5XXXXXX1", "坏代码", "450403", "1340", "2012-05-01", "1", "甘蔗制糖", "", ""]
    )
    rows.append(
        [make_uscc("450403", 99), "错区", "999999", "1340", "2012-05-01", "1", "甘蔗制糖", "", ""]
    )
    rows.append(rows[0])  # duplicate key
    file = write_firms(tmp_path / "firms.csv", rows, encoding="gb18030")
    result = run(["ingest", "enterprises", str(file)], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"]) == (3, 3)
    errors = (tmp_path / "firms.csv.errors.csv").read_text("utf-8-sig")
    assert "5,统一社会信用代码" in errors and "6,所属地区" in errors and "7," in errors
    diagnosis = json.loads(
        run(
            ["diagnose", "-r", "450400", "-c", "sugarcane", "--format", "json"], tmp_path / "home"
        ).stdout
    )
    milling = next(n for n in diagnosis["nodes"] if n["id"] == "raw_sugar_milling")
    assert milling["firm_count"] == 3


def test_missing_columns_and_empty_file_change_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(["ingest", "enterprises", str(write_firms(tmp_path / "ok.csv", good_rows(2)))], home)
    before = (home / "warehouse.duckdb").read_bytes()
    empty = tmp_path / "empty.csv"
    empty.write_text("", "utf-8")
    result = run(["ingest", "enterprises", str(empty)], home)
    assert result.returncode == 1 and "error" in result.stderr
    no_name = tmp_path / "noname.csv"
    no_name.write_text("统一社会信用代码,所属地区\n91450403MA00000017,450403\n", "utf-8")
    result = run(["ingest", "enterprises", str(no_name)], home)
    assert result.returncode == 1 and "企业名称" in result.stderr
    assert (home / "warehouse.duckdb").read_bytes() == before


def test_killed_ingest_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(["ingest", "enterprises", str(write_firms(tmp_path / "first.csv", good_rows(5)))], home)
    before = run(["diagnose", "-r", "450400", "-c", "sugarcane", "--format", "json"], home).stdout
    big = write_firms(tmp_path / "big.csv", good_rows(3000, start=1000, region="450481"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainatlas", "ingest", "enterprises", str(big)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHAINATLAS_HOME": str(home), "CHAINATLAS_FAULT_PAUSE_IN_LOAD": "60"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "FAULT-PAUSE"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    after = run(["diagnose", "-r", "450400", "-c", "sugarcane", "--format", "json"], home).stdout
    assert json.loads(after)["firm_count"] == json.loads(before)["firm_count"] == 5


def test_classify_without_loading(tmp_path: Path) -> None:
    file = write_firms(
        tmp_path / "f.csv",
        [
            *good_rows(2),
            [
                make_uscc("440106", 7),
                "餐馆",
                "440106",
                "6210",
                "2019-01-01",
                "10",
                "餐饮服务",
                "",
                "",
            ],
        ],
    )
    out = tmp_path / "assignments.csv"
    result = run(["classify", "-i", str(file), "-o", str(out)], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    text = out.read_text("utf-8-sig").splitlines()
    assert text[0] == "uscc,chain_id,node_id,score,method,evidence"
    assert len(text) == 3 and all(",sugarcane,raw_sugar_milling," in line for line in text[1:])
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


def test_errors_are_one_line_with_exit_code_one(tmp_path: Path) -> None:
    result = run(["diagnose", "-r", "450400", "-c", "sugarcane"], tmp_path / "nohome")
    assert result.returncode == 1 and "chainatlas demo" in result.stderr
    assert "Traceback" not in result.stderr
    result = run(["chains", "show", "nope"], tmp_path)
    assert result.returncode == 1 and "nope" in result.stderr


def test_diagnose_table_in_either_language(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(["ingest", "enterprises", str(write_firms(tmp_path / "f.csv", good_rows(4)))], home)
    base = ["diagnose", "-r", "450400", "-c", "sugarcane"]
    zh = run(base, home, COLUMNS="160")
    en = run([*base, "--lang", "en"], home, COLUMNS="160")
    assert zh.returncode == 0 and en.returncode == 0, zh.stderr + en.stderr
    assert "甘蔗制糖产业链诊断" in zh.stdout and "建议举措" in zh.stdout
    assert "Sugarcane" in en.stdout and "Recommended actions" in en.stdout
    assert "Status" in en.stdout and "状态" not in en.stdout


@pytest.mark.parametrize("fmt", ["html", "xlsx", "json"])
def test_diagnose_writes_files(tmp_path: Path, fmt: str) -> None:
    home = tmp_path / "home"
    run(["ingest", "enterprises", str(write_firms(tmp_path / "f.csv", good_rows(4)))], home)
    out = tmp_path / f"d.{fmt}"
    result = run(
        ["diagnose", "-r", "450400", "-c", "sugarcane", "--format", fmt, "--out", str(out)], home
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000


def test_reclassify_after_a_user_template_is_added(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = good_rows(2)
    rows[0][6], rows[0][7] = "甲料生产", ""  # matches no shipped chain
    run(["ingest", "enterprises", str(write_firms(tmp_path / "f.csv", rows))], home)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "toy.yaml").write_text(
        "id: toy\nname_zh: 示例\nname_en: Toy\nnodes:\n"
        "  - {id: a, name_zh: 甲, name_en: A, stage: upstream, include: [甲料生产]}\n"
        "  - {id: b, name_zh: 乙, name_en: B, stage: downstream, include: [乙件制造]}\n"
        "edges:\n  - {supplier: a, customer: b}\n",
        "utf-8",
    )
    result = run(["reclassify"], home, CHAINATLAS_CHAINS_DIR=str(mine))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["enterprises"] == 2
    diagnosis = run(
        ["diagnose", "-r", "450400", "-c", "toy", "--format", "json"],
        home,
        CHAINATLAS_CHAINS_DIR=str(mine),
    )
    assert json.loads(diagnosis.stdout)["nodes"][0]["firm_count"] == 1


def test_analytics_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    furniture = [
        [
            make_uscc("440106", 500 + i),
            f"广州测试家具{i}有限公司",
            "440106",
            "2110",
            "2016-03-01",
            "300",
            "实木家具制造；家具销售",
            "实木家具",
            "",
        ]
        for i in range(5)
    ]
    rows = good_rows(4) + good_rows(3, start=20, region="440106") + furniture
    loaded = run(["ingest", "enterprises", str(write_firms(tmp_path / "f.csv", rows))], home)
    assert loaded.returncode == 0, loaded.stderr

    result = run(["opportunities", "-r", "450400", "--format", "json"], home)
    assert result.returncode == 0, result.stderr
    opp = json.loads(result.stdout)
    assert opp["schema"] == "chainatlas.opportunities/1" and opp["regions_compared"] == 2
    assert opp["items"] and {i["kind"] for i in opp["items"]} <= {"build", "extend", "fill"}

    out = tmp_path / "trends.xlsx"
    result = run(
        ["trends", "-r", "450400", "-c", "sugarcane", "--format", "xlsx", "--out", str(out)], home
    )
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(out).worksheets[0]
    assert sheet.cell(1, 1).value == "环节" and sheet.max_row > 2

    peers = json.loads(run(["peers", "-r", "450400", "--format", "json"], home).stdout)
    assert [p["code"] for p in peers["peers"]] == ["440100"]
    compared = run(
        ["compare", "-c", "sugarcane", "-r", "450400", "-r", "440100", "--format", "json"], home
    )
    assert json.loads(compared.stdout)["schema"] == "chainatlas.comparison/1"

    table = tmp_path / "long.csv"
    table.write_text("地区,产品,值\nA,x,10\nA,y,0\nB,x,5\nB,y,5\nC,y,8\nC,z,2\n", "utf-8")
    args = ["complexity", "-i", str(table), "--region-col", "地区", "--product-col", "产品"]
    result = run([*args, "--value-col", "值"], home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("地区,产品,值,rca,mcp")
    result = run([*args, "--value-col", "数量"], home)
    assert result.returncode == 1 and "数量" in result.stderr and "Traceback" not in result.stderr

    io = Path(__file__).parent / "data" / "io"
    result = run(
        [
            "io-linkages",
            "--z",
            str(io / "mb2_Z.csv"),
            "--x",
            str(io / "mb2_x.csv"),
            "--format",
            "json",
        ],
        home,
    )
    assert result.returncode == 0, result.stderr
    assert {s["sector"] for s in json.loads(result.stdout)["linkages"]} == {
        "agriculture",
        "manufacturing",
    }
    result = run(["io-linkages", "--z", str(io / "mb2_Z.csv"), "--x", str(io / "toy_x.csv")], home)
    assert result.returncode == 1 and "agriculture" in result.stderr


def test_ingest_a_monthly_snapshot(tmp_path: Path) -> None:
    """The same file again changes nothing; a snapshot without one firm and with one new
    firm deregisters the missing one on the snapshot's date and classifies only the new."""
    home = tmp_path / "home"
    first = run(
        ["ingest", "enterprises", str(write_firms(tmp_path / "m1.csv", good_rows(4)))], home
    )
    assert json.loads(first.stdout)["cube_update"] == "full"
    again = json.loads(run(["ingest", "enterprises", str(tmp_path / "m1.csv")], home).stdout)
    assert (again["changed"], again["unchanged"], again["cube_update"]) == (0, 4, "none")
    month = good_rows(3) + good_rows(1, start=50)
    file = write_firms(tmp_path / "m2.csv", month)
    done = run(["ingest", "enterprises", str(file), "--snapshot-date", "2026-10-31"], home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["deregistered_absent"] == 1
    assert (summary["reclassified"], summary["unchanged"], summary["changed"]) == (1, 3, 2)
    diagnosis = json.loads(
        run(["diagnose", "-r", "450400", "-c", "sugarcane", "--format", "json"], home).stdout
    )
    milling = next(n for n in diagnosis["nodes"] if n["id"] == "raw_sugar_milling")
    assert milling["firm_count"] == 4  # 4 − 1 gone + 1 new


def test_a_killed_build_resumes_and_ingest_build_makes_it_the_warehouse(tmp_path: Path) -> None:
    home = tmp_path / "home"
    synth = run(
        ["synth", "--enterprises", "800", "--seed", "3", "--out", str(tmp_path / "in")], home
    )
    assert synth.returncode == 0, synth.stderr
    (tmp_path / "in" / "labels.parquet").unlink()
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "chainatlas",
        "build",
        "-i",
        str(tmp_path / "in"),
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHAINATLAS_HOME": str(home), "CHAINATLAS_FAULT_PAUSE_IN_BUILD": "60"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "FAULT-PAUSE"  # input read and committed
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert not out.exists()
    # the same command resumes from the finished steps
    built = run(["build", "-i", str(tmp_path / "in"), "-o", str(out)], home)
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    assert summary["resumed"] == ["read", "links"]
    assert [s["stage"] for s in summary["stages"]][:1] == ["classify"]
    # imported, the build answers the CLI as its own diagnosis tables say
    done = run(["ingest", "build", str(out)], home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tables"]["enterprises"] == 800
    diagnosis = json.loads(
        run(["diagnose", "-r", "450400", "-c", "sugarcane", "--format", "json"], home).stdout
    )
    city = pl.read_parquet(out / "diagnosis_chains" / "*.parquet").filter(
        (pl.col("level") == "city")
        & (pl.col("region_code") == "450400")
        & (pl.col("chain_id") == "sugarcane")
    )
    assert diagnosis["firm_count"] == city["firm_count"][0] > 0
    assert diagnosis["completeness"] == pytest.approx(city["completeness"][0], abs=1e-4)
    missing = run(["ingest", "build", str(tmp_path / "in")], home)
    assert missing.returncode == 1 and "assignments" in missing.stderr


def test_evaluate_prints_every_shipped_set_and_a_users_own(tmp_path: Path) -> None:
    done = run(["evaluate", "--format", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["sets"]) == {"dev", "dev2", "test"}
    for result in report["sets"].values():
        overall = next(r for r in result["node_level"] if r["chain_id"] == "*")
        assert 0 < overall["f1"] <= 1 and overall["gold"] == result["gold_assignments"]
        assert {r["chain_id"] for r in result["chain_level"]} >= {"sugarcane", "*"}
    mine = tmp_path / "mine.jsonl"
    mine.write_text(
        json.dumps(
            {
                "id": "m1",
                "business_scope": "甘蔗种植；甘蔗收购；原糖、白砂糖生产销售",
                "industry_code": "1340",
                "labels": ["sugarcane/cane_planting"],
            },
            ensure_ascii=False,
        )
        + "\n",
        "utf-8",
    )
    done = run(["evaluate", "--set", str(mine)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mine.jsonl" in done.stdout and "F1" in done.stdout and "甘蔗制糖" in done.stdout
    # a label naming no node of the atlas, a line that is not JSON, a missing file
    mine.write_text('{"id": "m1", "labels": ["sugarcane/no_such_node"]}\n', "utf-8")
    done = run(["evaluate", "--set", str(mine)], tmp_path)
    assert done.returncode != 0
    assert "第1行「labels」" in done.stderr and "sugarcane/no_such_node" in done.stderr
    done = run(["evaluate", "--set", str(tmp_path / "none.jsonl")], tmp_path)
    assert done.returncode != 0 and "no labelled set" in done.stderr
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "labels": [}\n', "utf-8")
    done = run(["evaluate", "--set", str(tmp_path / "bad.jsonl")], tmp_path)
    assert done.returncode != 0
    assert "第1行" in done.stderr + done.stdout and "line 1" in done.stderr + done.stdout
