"""`chainatlas build` refuses bad input before it writes anything, on either engine, and
the command runs end to end (DuckDB engine; the Spark engine is compared in
test_spark_parity.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from chainatlas.atlas import Chain
from chainatlas.errors import UserError
from chainatlas.services.build import ENGINES, OUTPUT_TABLES, RESULT_TABLES, run_build
from chainatlas.synth import generate


@pytest.fixture(scope="module")
def small_input(tmp_path_factory: pytest.TempPathFactory, build_atlas: dict[str, Chain]) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(1_000, 7, out, atlas=build_atlas, chunk_size=1_000)
    (out / "labels.parquet").unlink()
    return out


def copy_input(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("enterprises.parquet", "supply_links.parquet"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def refused(engine: str, input_dir: Path, output_dir: Path, atlas: dict[str, Chain]) -> UserError:
    with pytest.raises(UserError) as caught:
        run_build(engine, input_dir, output_dir, atlas=atlas)  # type: ignore[arg-type]
    # nothing written: no output directory, no staging directory left beside it
    assert not output_dir.exists()
    assert list(output_dir.parent.glob(f".{output_dir.name}.building-*")) == []
    return caught.value


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_input_file_is_named(
    engine: str, small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    bad = copy_input(small_input, tmp_path / "in")
    (bad / "supply_links.parquet").unlink()
    error = refused(engine, bad, tmp_path / "out", build_atlas)
    assert "supply_links.parquet" in error.message_zh and "缺少输入文件" in error.message_zh
    assert "supply_links.parquet" in error.message_en and "missing input file" in error.message_en


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_column_is_named_with_its_file(
    engine: str, small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    bad = copy_input(small_input, tmp_path / "in")
    firms = pl.read_parquet(bad / "enterprises.parquet").drop("business_scope")
    firms.write_parquet(bad / "enterprises.parquet")
    error = refused(engine, bad, tmp_path / "out", build_atlas)
    for message in (error.message_zh, error.message_en):
        assert "business_scope" in message
        assert str(bad / "enterprises.parquet") in message
    assert "缺少列" in error.message_zh and "has no column" in error.message_en


def test_a_column_of_the_wrong_type_is_named(
    small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    bad = copy_input(small_input, tmp_path / "in")
    links = pl.read_parquet(bad / "supply_links.parquet")
    links.with_columns(pl.col("amount").cast(pl.String)).write_parquet(bad / "supply_links.parquet")
    error = refused("duckdb", bad, tmp_path / "out", build_atlas)
    assert "amount" in error.message_en and "expected DOUBLE" in error.message_en
    assert "amount" in error.message_zh and "应为 DOUBLE" in error.message_zh


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_region_codes_are_refused(
    engine: str, small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    bad = copy_input(small_input, tmp_path / "in")
    firms = pl.read_parquet(bad / "enterprises.parquet")
    firms.with_columns(
        region_code=pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.lit("990999"))
        .otherwise(pl.col("region_code"))
    ).write_parquet(bad / "enterprises.parquet")
    error = refused(engine, bad, tmp_path / "out", build_atlas)
    assert "990999" in error.message_zh and "region_code" in error.message_zh
    assert "990999" in error.message_en and "1 unknown region code" in error.message_en


def test_an_existing_output_directory_is_left_alone_when_the_build_fails(
    small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    bad = copy_input(small_input, tmp_path / "in")
    (bad / "enterprises.parquet").unlink()
    out = tmp_path / "out"
    (out / "assignments").mkdir(parents=True)
    (out / "assignments" / "part-0.parquet").write_bytes(b"previous build")
    with pytest.raises(UserError):
        run_build("duckdb", bad, out, atlas=build_atlas)
    assert sorted(p.name for p in out.rglob("*")) == ["assignments", "part-0.parquet"]
    assert (out / "assignments" / "part-0.parquet").read_bytes() == b"previous build"


def test_an_unknown_engine_is_refused(
    small_input: Path, tmp_path: Path, build_atlas: dict[str, Chain]
) -> None:
    error = refused("sqlite", small_input, tmp_path / "out", build_atlas)
    assert "sqlite" in error.message_en and "duckdb" in error.message_zh


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainatlas", "build", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CHAINATLAS_HOME": str(home)},
        timeout=300,
    )


def test_the_build_command_writes_every_table(small_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    done = cli(
        "--engine", "duckdb", "--input", str(small_input), "--output", str(out), home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["engine"] == "duckdb"
    assert set(summary["tables"]) == {*OUTPUT_TABLES, *RESULT_TABLES}
    assert summary["tables"]["enterprises"] == 1_000
    assert {s["stage"] for s in summary["stages"]} >= {"read", "classify", "cube", "network"}
    for table in (*OUTPUT_TABLES, *RESULT_TABLES):
        assert pl.read_parquet(out / table / "*.parquet").height == summary["tables"][table]


def test_the_build_command_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    done = cli("--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "o"), home=tmp_path)
    assert done.returncode == 1
    assert "输入目录不存在" in done.stderr and "no such input directory" in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_target_list_length_below_one_is_refused_before_the_build_runs(
    small_input: Path, tmp_path: Path
) -> None:
    done = cli(
        "--input",
        str(small_input),
        "--output",
        str(tmp_path / "o"),
        "--targets-top",
        "0",
        home=tmp_path,
    )
    assert done.returncode == 1
    assert "--targets-top 须为正整数" in done.stderr and "must be at least 1" in done.stderr
    # refused before anything ran: no output, no working directory to resume
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.work").exists()
