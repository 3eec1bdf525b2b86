"""Validate an enterprise table into the `enterprises` contract (docs/contracts-tables.md).

Every check runs on whole columns (polars, numpy for the check digit); the
only per-row Python is OpenCC on rows holding traditional characters. The
steps: map headers to canonical columns; normalise and check each column once
per distinct value; check across fields and rows (dates in order, duplicate
codes, a descriptor present); split rows into accepted and rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import polars as pl

from chainatlas.ingest.aliases import ENTERPRISE_ALIASES, ENTERPRISE_DESCRIPTORS, canonical_frame
from chainatlas.ingest.errors import (
    ValidationResult,
    collect_problems,
    has_no_problem,
    reason_exprs,
    with_checks,
)
from chainatlas.ingest.validators import (
    CHECK_COLUMNS,
    MAX_FIELD_CHARS,
    amount_problems,
    bool_problems,
    checked_field,
    clean_uscc,
    date_problems,
    employee_problems,
    industry_code_problems,
    region_code_problems,
    required,
    tag_values,
    too_long,
    uscc_problems,
)

ENTERPRISES_SCHEMA: dict[str, pl.DataType] = {
    "uscc": pl.String(),
    "name": pl.String(),
    "region_code": pl.String(),
    "industry_code": pl.String(),
    "established": pl.Date(),
    "deregistered": pl.Date(),
    "registered_capital": pl.Float64(),
    "revenue": pl.Float64(),
    "employees": pl.Int64(),
    "business_scope": pl.String(),
    "products": pl.String(),
    "tags": pl.String(),
    "synthetic": pl.Boolean(),
}


def _cleaned(name: str) -> pl.Expr:
    return pl.col(f"_clean_{name}")


def _value(name: str) -> pl.Expr:
    return pl.col(f"_v_{name}")


def as_code_series(codes: Iterable[str] | pl.Series) -> pl.Series:
    if isinstance(codes, pl.Series):
        return codes.cast(pl.String)
    return pl.Series(sorted(codes), dtype=pl.String)


def validate_enterprises(
    raw: pl.DataFrame,
    region_codes: Iterable[str] | pl.Series,
    *,
    today: date | None = None,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> ValidationResult:
    """Split a raw enterprise table (all-string columns, as `read_table` returns) into
    accepted rows in the `enterprises` contract and one problem row per failure.

    Required: uscc, name, region_code (in `region_codes`), and at least one of
    business_scope, products, industry_code. Later duplicates of a uscc are
    rejected naming the first row. Dates must lie between 1949 and `today`.
    """
    today = today or date.today()
    frame, columns = canonical_frame(raw, "enterprises")
    present = [c for c in ENTERPRISE_ALIASES if columns.has(c)]
    known_regions = as_code_series(region_codes)
    field_checks: dict[str, Callable[[pl.Series], pl.DataFrame]] = {
        "uscc": lambda codes: uscc_problems(clean_uscc(codes)),
        "name": lambda names: required(names, "企业名称", "enterprise name"),
        "region_code": lambda codes: region_code_problems(codes, known_regions),
        "industry_code": industry_code_problems,
        "established": lambda dates: date_problems(dates, today),
        "deregistered": lambda dates: date_problems(dates, today),
        "registered_capital": lambda amounts: amount_problems(
            amounts, columns.units.get("registered_capital")
        ),
        "revenue": lambda amounts: amount_problems(amounts, columns.units.get("revenue")),
        "employees": employee_problems,
        "synthetic": bool_problems,
    }
    # Normalise and check each column in one pass over its distinct values.
    checked = {
        c: checked_field(frame[c], field_checks.get(c)) for c in ENTERPRISE_ALIASES if c != "tags"
    }
    tags = checked_field(frame["tags"], tag_values)
    work = frame.with_columns(
        *(checked[c]["cleaned"].alias(f"_clean_{c}") for c in checked),
        tags["value"].alias("_v_tags"),
        tags["unknown"].alias("_unknown_tags"),
    )
    work = with_checks(work, {name: checked[name].select(CHECK_COLUMNS) for name in field_checks})
    work = with_checks(work, {f"long_{c}": too_long(frame[c], max_field_chars) for c in present})
    # One rechunk here makes the many column selections below cheap.
    work = work.with_columns(_row_checks()).rechunk()

    descriptors = [c for c in ENTERPRISE_DESCRIPTORS if columns.has(c)]
    checks: list[tuple[str, str, str | None]] = [
        *((name, columns.header(name), name) for name in field_checks),
        ("descriptor", "/".join(columns.header(c) for c in descriptors), None),
        ("order", columns.header("deregistered"), "deregistered"),
        ("duplicate", columns.header("uscc"), "uscc"),
        *((f"long_{c}", columns.header(c), c) for c in present),
    ]
    ok = work.select(has_no_problem(name for name, _, _ in checks)).to_series()
    accepted = _contract(work).filter(ok)
    return ValidationResult(
        accepted=accepted.drop("row", "_unknown_tags", "_raw_tags"),
        rejected=collect_problems(work, checks),
        warnings=_tag_notes(accepted, columns.header("tags")),
        ignored_columns=columns.ignored,
    )


def _row_checks() -> list[pl.Expr]:
    """Reasons of the checks across fields and rows, from the field checks' values."""
    descriptor_missing = pl.all_horizontal(_cleaned(c).is_null() for c in ENTERPRISE_DESCRIPTORS)
    dates_ok = pl.col("_zh_established").is_null() & pl.col("_zh_deregistered").is_null()
    backwards = dates_ok & (_value("deregistered") < _value("established"))
    first_row = pl.col("row").min().over("_v_uscc")
    duplicate = _value("uscc").is_not_null() & (pl.col("row") != first_row)
    return [
        *reason_exprs(
            "descriptor",
            descriptor_missing,
            "经营范围、主营产品、行业代码至少要填一项",
            "fill in at least one of business scope, products, industry code",
        ),
        *reason_exprs(
            "order",
            backwards,
            "注销/吊销日期早于成立日期",
            "deregistration date is before the establishment date",
        ),
        *reason_exprs(
            "duplicate",
            duplicate,
            pl.format("统一社会信用代码与第 {} 行重复", first_row),
            pl.format("duplicate uscc, first in row {}", first_row),
        ),
    ]


def _contract(work: pl.DataFrame) -> pl.DataFrame:
    """The `enterprises` contract columns, plus `row` and what the tag notes need."""
    return work.select(
        pl.col("row"),
        _value("uscc").alias("uscc"),
        _cleaned("name").alias("name"),
        _value("region_code").alias("region_code"),
        _value("industry_code").alias("industry_code"),
        _value("established").alias("established"),
        _value("deregistered").alias("deregistered"),
        _value("registered_capital").alias("registered_capital"),
        _value("revenue").alias("revenue"),
        _value("employees").alias("employees"),
        _cleaned("business_scope").alias("business_scope"),
        _cleaned("products").alias("products"),
        _value("tags").alias("tags"),
        _value("synthetic").alias("synthetic"),
        pl.col("_unknown_tags"),
        pl.col("tags").alias("_raw_tags"),
    ).cast(ENTERPRISES_SCHEMA)  # type: ignore[arg-type]


def _tag_notes(accepted: pl.DataFrame, header: str) -> pl.DataFrame:
    """Warnings for unknown tags on accepted rows: the row is kept, the tag dropped."""
    return accepted.filter(pl.col("_unknown_tags").is_not_null()).select(
        pl.col("row"),
        pl.lit(header).alias("field"),
        pl.col("_raw_tags").fill_null("").alias("value"),
        pl.format("未识别的标签已忽略：{}", pl.col("_unknown_tags")).alias("reason_zh"),
        pl.format("unrecognised tags dropped: {}", pl.col("_unknown_tags")).alias("reason_en"),
    )
