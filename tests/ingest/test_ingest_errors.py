"""Error file and summary."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from chainatlas.ingest.errors import (
    ERROR_FILE_HEADERS,
    PROBLEM_SCHEMA,
    IngestError,
    ValidationResult,
    summary,
    write_error_file,
)


def problems(*rows: tuple[int, str, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row")


def test_ingest_error_carries_both_languages() -> None:
    error = IngestError("文件为空", "the file is empty")
    assert str(error) == "文件为空 / the file is empty"
    assert (error.message_zh, error.message_en) == ("文件为空", "the file is empty")


def test_error_file_is_excel_friendly(tmp_path: Path) -> None:
    rejected = problems(
        (3, "成立日期", "2019-02-30", "日期不存在", "impossible date"),
        (3, "注册资本", "-5", "金额不能为负数", "amount must not be negative"),
    )
    warnings = problems(
        (2, "企业标签", "瞪羚", "未识别的标签已忽略：瞪羚", "unrecognised tags dropped: 瞪羚")
    )
    path = write_error_file(rejected, tmp_path / "out" / "errors.csv", warnings)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(ERROR_FILE_HEADERS)
    assert lines[1] == "3,成立日期,2019-02-30,日期不存在,impossible date"
    assert lines[3].startswith("2,企业标签,瞪羚,[提示] 未识别的标签已忽略：瞪羚,[note] ")
    assert pl.read_csv(path).height == 3


def test_summary(tmp_path: Path) -> None:
    rejected = problems((3, "a", "", "x", "x"), (3, "b", "", "y", "y"), (5, "a", "", "z", "z"))
    result = ValidationResult(accepted=pl.DataFrame({"uscc": ["1", "2"]}), rejected=rejected)
    assert summary(result, tmp_path / "e.csv") == {
        "accepted": 2,
        "rejected_rows": 2,
        "problems": 3,
        "warnings": 0,
        "error_file": str(tmp_path / "e.csv"),
    }
    empty = ValidationResult(accepted=pl.DataFrame(), rejected=problems())
    assert summary(empty)["rejected_rows"] == 0 and summary(empty)["error_file"] is None
