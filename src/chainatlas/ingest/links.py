"""Validate a supply-link table into the `supply_links` contract (docs/contracts-tables.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from chainatlas.ingest.aliases import SUPPLY_LINK_ALIASES, canonical_frame
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
    checked_field,
    clean_uscc,
    too_long,
    uscc_problems,
    year_problems,
)

SUPPLY_LINKS_SCHEMA: dict[str, pl.DataType] = {
    "supplier_uscc": pl.String(),
    "customer_uscc": pl.String(),
    "amount": pl.Float64(),
    "year": pl.Int64(),
    "product": pl.String(),
}


def validate_links(
    raw: pl.DataFrame,
    known_uscc: pl.Series | None = None,
    *,
    today: date | None = None,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> ValidationResult:
    """Split a raw supply-link table into accepted `supply_links` rows and problems.

    Both codes must be valid and different, and in `known_uscc` when given (the
    enterprises already loaded). A later row with the same (supplier, customer,
    year) is rejected naming the first one.
    """
    today = today or date.today()
    frame, columns = canonical_frame(raw, "supply_links")
    present = [c for c in SUPPLY_LINK_ALIASES if columns.has(c)]
    field_checks: dict[str, Callable[[pl.Series], pl.DataFrame]] = {
        "supplier_uscc": lambda codes: uscc_problems(
            clean_uscc(codes), "供应商信用代码", "supplier credit code"
        ),
        "customer_uscc": lambda codes: uscc_problems(
            clean_uscc(codes), "客户信用代码", "customer credit code"
        ),
        "amount": lambda amounts: amount_problems(amounts, columns.units.get("amount")),
        "year": lambda years: year_problems(years, today),
    }
    checked = {c: checked_field(frame[c], field_checks.get(c)) for c in SUPPLY_LINK_ALIASES}
    work = frame.with_columns(checked[c]["cleaned"].alias(f"_clean_{c}") for c in checked)
    work = with_checks(work, {name: checked[name].select(CHECK_COLUMNS) for name in field_checks})
    work = with_checks(work, {f"long_{c}": too_long(frame[c], max_field_chars) for c in present})
    work = work.with_columns(_row_checks(known_uscc)).rechunk()

    checks: list[tuple[str, str, str | None]] = [
        *((name, columns.header(name), name) for name in field_checks),
        ("same", columns.header("customer_uscc"), "customer_uscc"),
        ("duplicate", columns.header("customer_uscc"), "customer_uscc"),
        *((f"long_{c}", columns.header(c), c) for c in present),
    ]
    if known_uscc is not None:
        checks += [
            ("unknown_supplier", columns.header("supplier_uscc"), "supplier_uscc"),
            ("unknown_customer", columns.header("customer_uscc"), "customer_uscc"),
        ]
    ok = work.select(has_no_problem(name for name, _, _ in checks)).to_series()
    accepted = (
        work.select(
            pl.col("_v_supplier_uscc").alias("supplier_uscc"),
            pl.col("_v_customer_uscc").alias("customer_uscc"),
            pl.col("_v_amount").alias("amount"),
            pl.col("_v_year").alias("year"),
            pl.col("_clean_product").alias("product"),
        )
        .filter(ok)
        .cast(SUPPLY_LINKS_SCHEMA)  # type: ignore[arg-type]
    )
    return ValidationResult(
        accepted=accepted,
        rejected=collect_problems(work, checks),
        ignored_columns=columns.ignored,
    )


def _row_checks(known_uscc: pl.Series | None) -> list[pl.Expr]:
    """Checks across fields and rows: self-links, unknown firms, duplicate links."""
    supplier, customer = pl.col("_v_supplier_uscc"), pl.col("_v_customer_uscc")
    both_valid = pl.col("_zh_supplier_uscc").is_null() & pl.col("_zh_customer_uscc").is_null()
    key = [supplier, customer, pl.col("_v_year")]
    first_row = pl.col("row").min().over(key)
    duplicate = both_valid & (pl.col("row") != first_row)
    exprs = [
        *reason_exprs(
            "same",
            both_valid & (supplier == customer),
            "供应商与客户是同一家企业",
            "supplier and customer are the same enterprise",
        ),
        *reason_exprs(
            "duplicate",
            duplicate,
            pl.format("与第 {} 行的供应商、客户、年度相同", first_row),
            pl.format("same supplier, customer and year as row {}", first_row),
        ),
    ]
    if known_uscc is not None:
        known = known_uscc.cast(pl.String).implode()
        exprs += [
            *reason_exprs(
                "unknown_supplier",
                both_valid & ~supplier.is_in(known),
                "供应商不在已导入的企业中",
                "supplier is not among the loaded enterprises",
            ),
            *reason_exprs(
                "unknown_customer",
                both_valid & ~customer.is_in(known),
                "客户不在已导入的企业中",
                "customer is not among the loaded enterprises",
            ),
        ]
    return exprs
