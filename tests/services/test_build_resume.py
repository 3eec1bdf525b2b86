"""An interrupted DuckDB build resumes where it stopped and ends with the same tables as
an uninterrupted one; a changed input starts afresh."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from chainatlas.atlas import Chain, load_atlas
from chainatlas.services import build_duckdb
from chainatlas.services.build import OUTPUT_TABLES, RESULT_TABLES, resume_dir, run_build
from chainatlas.synth import generate

FIRMS = 1_000
CHUNK = 200  # five classification chunks


@pytest.fixture(scope="module")
def atlas() -> dict[str, Chain]:
    return load_atlas([])


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory, atlas: dict[str, Chain]) -> Path:
    out = tmp_path_factory.mktemp("input")
    generate(FIRMS, 5, out, atlas=atlas, chunk_size=1_000)
    (out / "labels.parquet").unlink()
    return out


def tables(out: Path) -> dict[str, pl.DataFrame]:
    return {
        t: pl.read_parquet(out / t / "*.parquet").sort(pl.all(), nulls_last=True)
        for t in (*OUTPUT_TABLES, *RESULT_TABLES)
    }


def test_an_interrupted_build_resumes_and_ends_as_an_uninterrupted_one(
    raw: Path, atlas: dict[str, Chain], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_duckdb, "CHUNK", CHUNK)
    calls: list[int] = []
    real = build_duckdb.classify

    def counting(frame: pl.DataFrame, *args: object, **kwargs: object) -> pl.DataFrame:
        calls.append(frame.height)
        return real(frame, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_duckdb, "classify", counting)
    out = tmp_path / "out"
    monkeypatch.setenv("CHAINATLAS_FAULT_STOP_BUILD_AFTER_CHUNKS", "2")
    with pytest.raises(build_duckdb.BuildInterrupted):
        run_build("duckdb", raw, out, atlas=atlas)
    assert calls == [CHUNK] * 2
    assert not out.exists()  # nothing written to the output
    assert resume_dir(out).is_dir()  # the working warehouse stays for the next run
    monkeypatch.delenv("CHAINATLAS_FAULT_STOP_BUILD_AFTER_CHUNKS")
    calls.clear()
    resumed = run_build("duckdb", raw, out, atlas=atlas)
    assert resumed.resumed == ["read", "links"]
    # the two chunks finished before the stop are not classified again
    assert calls == [CHUNK] * (FIRMS // CHUNK - 2)
    assert not resume_dir(out).exists()  # removed once the build succeeded
    fresh = run_build("duckdb", raw, tmp_path / "fresh", atlas=atlas)
    assert fresh.resumed == []
    got, want = tables(out), tables(tmp_path / "fresh")
    for table in want:
        assert_frame_equal(got[table], want[table], rel_tol=1e-12, abs_tol=1e-12)


def test_a_changed_input_starts_afresh(
    raw: Path, atlas: dict[str, Chain], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_duckdb, "CHUNK", CHUNK)
    data = tmp_path / "input"
    data.mkdir()
    for name in ("enterprises.parquet", "supply_links.parquet"):
        (data / name).write_bytes((raw / name).read_bytes())
    out = tmp_path / "out"
    monkeypatch.setenv("CHAINATLAS_FAULT_STOP_BUILD_AFTER_CHUNKS", "1")
    with pytest.raises(build_duckdb.BuildInterrupted):
        run_build("duckdb", data, out, atlas=atlas)
    monkeypatch.delenv("CHAINATLAS_FAULT_STOP_BUILD_AFTER_CHUNKS")
    firms = pl.read_parquet(data / "enterprises.parquet")
    firms.head(FIRMS - 100).write_parquet(data / "enterprises.parquet")
    os.utime(data / "enterprises.parquet", None)
    result = run_build("duckdb", data, out, atlas=atlas)
    assert result.resumed == []
    assert result.tables["enterprises"] == FIRMS - 100
