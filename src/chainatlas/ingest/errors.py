"""Ingest errors and problem reports, always in Chinese and English.

Two levels: an `IngestError` stops the whole file (it cannot be read at all);
a *problem* rejects one row and is listed in the error file next to its row
number, so the user can fix the file and load again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


class IngestError(ValueError):
    """A file-level error; str() carries both languages."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


# One row per problem; a row with several problems appears several times.
PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "field": pl.String(),
    "value": pl.String(),
    "reason_zh": pl.String(),
    "reason_en": pl.String(),
}

# Headers of the error file, in the order of PROBLEM_SCHEMA.
ERROR_FILE_HEADERS = ("行号 row", "字段 field", "值 value", "原因", "reason")

# Warnings (kept rows with a note) are marked so in the error file.
WARNING_PREFIX_ZH = "[提示] "
WARNING_PREFIX_EN = "[note] "


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


@dataclass(frozen=True)
class ValidationResult:
    """What validation returns: rows to load, and every problem found.

    `warnings` lists notes on accepted rows (e.g. an unknown tag that was
    dropped); `ignored_columns` are input headers that match no known column.
    """

    accepted: pl.DataFrame
    rejected: pl.DataFrame
    warnings: pl.DataFrame = field(default_factory=empty_problems)
    ignored_columns: tuple[str, ...] = ()

    @property
    def rejected_rows(self) -> int:
        return int(self.rejected["row"].n_unique()) if self.rejected.height else 0


def write_error_file(
    rejected: pl.DataFrame, path: str | Path, warnings: pl.DataFrame | None = None
) -> Path:
    """Write problems as CSV, UTF-8 with BOM so Excel opens the Chinese text correctly.

    Warnings, if given, follow the rejections with their reasons prefixed
    "[提示]" / "[note]".
    """
    frames = [rejected.select(list(PROBLEM_SCHEMA))]
    if warnings is not None and warnings.height:
        frames.append(
            warnings.select(list(PROBLEM_SCHEMA)).with_columns(
                (pl.lit(WARNING_PREFIX_ZH) + pl.col("reason_zh")).alias("reason_zh"),
                (pl.lit(WARNING_PREFIX_EN) + pl.col("reason_en")).alias("reason_en"),
            )
        )
    report = pl.concat(frames, how="vertical").cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
    report = report.rename(dict(zip(PROBLEM_SCHEMA, ERROR_FILE_HEADERS, strict=True)))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    report.write_csv(target, include_bom=True)
    return target


def summary(
    result: ValidationResult, error_file: str | Path | None = None
) -> dict[str, int | str | None]:
    """Counts for a CLI line or an API response."""
    return {
        "accepted": result.accepted.height,
        "rejected_rows": result.rejected_rows,
        "problems": result.rejected.height,
        "warnings": result.warnings.height,
        "error_file": str(error_file) if error_file is not None else None,
    }
