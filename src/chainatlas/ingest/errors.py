"""Ingest errors and problem reports, always in Chinese and English.

Two levels: an `IngestError` stops the whole file (it cannot be read at all);
a *problem* rejects one row and is listed in the error file next to its row
number, so the user can fix the file and load again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


# The value column of a report shows at most this many characters of a cell.
SHOWN_VALUE_CHARS = 200


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


def shown_value(values: pl.Expr) -> pl.Expr:
    """The cell as text for a report: "" for empty, long text cut with "…"."""
    text = values.cast(pl.String).fill_null("")
    return (
        pl.when(text.str.len_chars() > SHOWN_VALUE_CHARS)
        .then(text.str.slice(0, SHOWN_VALUE_CHARS) + pl.lit("…"))
        .otherwise(text)
    )


def reason_columns(name: str) -> tuple[str, str]:
    """Names of the Chinese and English reason columns of one check."""
    return f"_zh_{name}", f"_en_{name}"


def collect_problems(
    work: pl.DataFrame, checks: Sequence[tuple[str, str, str | None]]
) -> pl.DataFrame:
    """One problem row per failed check, in row order then check order.

    `checks` are (check name, field as shown to the user, column holding the
    value to show or None); `work` holds each check's reason columns.
    """
    frames = []
    for name, field_shown, value_column in checks:
        zh, en = reason_columns(name)
        value = shown_value(pl.col(value_column)) if value_column else pl.lit("")
        # Filter only the columns needed: filtering the whole working frame is slow.
        failed = work.select("row", zh, en, *([value_column] if value_column else []))
        failed = failed.filter(pl.col(zh).is_not_null())
        frames.append(
            failed.select(
                pl.col("row").cast(pl.Int64),
                pl.lit(field_shown, dtype=pl.String).alias("field"),
                value.alias("value"),
                pl.col(zh).alias("reason_zh"),
                pl.col(en).alias("reason_en"),
            )
        )
    if not frames:
        return empty_problems()
    return pl.concat(frames, how="vertical").sort("row", maintain_order=True)


def with_checks(work: pl.DataFrame, checks: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Append check frames (value, reason_zh, reason_en) as `_v_`, `_zh_`, `_en_` + name."""
    renamed = []
    for name, check in checks.items():
        zh, en = reason_columns(name)
        renamed.append(check.rename({"value": f"_v_{name}", "reason_zh": zh, "reason_en": en}))
    return pl.concat([work, *renamed], how="horizontal")


def reason_exprs(
    name: str, failed: pl.Expr, reason_zh: str | pl.Expr, reason_en: str | pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """Reason columns of a check written as one condition (null where it passes)."""
    zh, en = reason_columns(name)

    def text(reason: str | pl.Expr) -> pl.Expr:
        return pl.lit(reason) if isinstance(reason, str) else reason

    return (
        pl.when(failed).then(text(reason_zh)).otherwise(None).alias(zh),
        pl.when(failed).then(text(reason_en)).otherwise(None).alias(en),
    )


def has_no_problem(checks: Iterable[str]) -> pl.Expr:
    """True for rows where every listed check passed."""
    return ~pl.any_horizontal(pl.col(reason_columns(name)[0]).is_not_null() for name in checks)


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
