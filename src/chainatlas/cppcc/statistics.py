"""The yearly figures CPPCC work reports publish (e.g. "全年开展专题协商 N 次，委员走访企业
N 家次，协调解决企业困难问题 N 个，参加招商活动 N 次"), for the whole system and per member,
computed from the records. Pure: frames in, frames out.

Inputs (schemas below): consultations held; attendance of members; duty records (with the
workflow case a visit raised); the cases meetings raised; the linked cases' state.

For year Y:
- `consultations_<kind>`: meetings of that kind held in Y; `consultations_held`: all kinds;
- `duties_<kind>`: duty records of that kind done in Y (`duties_visit` = enterprise visits,
  `duties_investment_event` = investment events joined …);
- `difficulties_coordinated`: distinct workflow cases raised from CPPCC visits (any duty
  record's case) or meetings, raised in Y;
- `difficulties_solved`: distinct such cases resolved or confirmed now whose resolution day
  falls in Y;
- per member: `consultations_attended` (present, any kind) and `topical_attended`,
  `consultations_missed` (absent without leave), its `duties_<kind>`, and the difficulties
  coordinated / solved through its own duty records.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import polars as pl

from chainatlas.cppcc.vocabulary import CONSULTATION_KIND_NAMES, DUTY_KIND_NAMES

CONSULTATION_SCHEMA: dict[str, pl.DataType] = {
    "consultation_id": pl.Int64(),
    "kind": pl.String(),
    "held_on": pl.Date(),
}
ATTENDANCE_SCHEMA: dict[str, pl.DataType] = {
    "consultation_id": pl.Int64(),
    "member_id": pl.Int64(),
    "status": pl.String(),
}
DUTY_SCHEMA: dict[str, pl.DataType] = {
    "duty_id": pl.Int64(),
    "member_id": pl.Int64(),
    "kind": pl.String(),
    "done_on": pl.Date(),
    "case_id": pl.Int64(),
}
CONSULTATION_CASE_SCHEMA: dict[str, pl.DataType] = {
    "consultation_id": pl.Int64(),
    "case_id": pl.Int64(),
}
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "state": pl.String(),
    "raised_on": pl.Date(),
    "resolved_on": pl.Date(),
}
CLOSED_CASE_STATES = ("resolved", "confirmed")

CONSULTATION_KINDS = tuple(CONSULTATION_KIND_NAMES)
DUTY_KINDS = tuple(DUTY_KIND_NAMES)

# every figure with its zh / en label, in report order
FIGURES: dict[str, tuple[str, str]] = {
    "consultations_held": ("开展协商（次）", "consultations held"),
    **{
        f"consultations_{k}": (f"其中{zh}（次）", f"of which {en}s")
        for k, (zh, en) in CONSULTATION_KIND_NAMES.items()
    },
    "consultations_attended": ("出席协商会议（次）", "consultations attended"),
    "topical_attended": ("出席专题协商（次）", "topical consultations attended"),
    "consultations_missed": ("无故缺席（次）", "missed without leave"),
    **{f"duties_{k}": (f"{zh}（次）", f"{en} (times)") for k, (zh, en) in DUTY_KIND_NAMES.items()},
    "members_active": ("有履职记录的委员（人）", "members with duty records"),
    "difficulties_coordinated": ("协调企业困难问题（个）", "enterprise difficulties coordinated"),
    "difficulties_solved": ("解决企业困难问题（个）", "enterprise difficulties solved"),
}


def _year(column: str, year: int) -> pl.Expr:
    return pl.col(column).is_between(
        pl.lit(date(year, 1, 1)), pl.lit(date(year, 12, 31)), closed="both"
    )


def _difficulties(case_ids: pl.DataFrame, cases: pl.DataFrame, year: int) -> pl.DataFrame:
    """Per `case_id` (distinct) in `case_ids` (other columns are group keys): coordinated
    (raised in the year) and solved (closed, resolved in the year)."""
    keys = [c for c in case_ids.columns if c != "case_id"]
    linked = case_ids.filter(pl.col("case_id").is_not_null()).unique().join(cases, on="case_id")
    solved = pl.col("state").is_in(CLOSED_CASE_STATES) & _year("resolved_on", year)
    flags = linked.with_columns(
        coordinated=_year("raised_on", year).fill_null(False),
        solved=solved.fill_null(False),
    )
    if not keys:
        return flags.select(
            difficulties_coordinated=pl.col("coordinated").sum().cast(pl.Int64),
            difficulties_solved=pl.col("solved").sum().cast(pl.Int64),
        )
    return flags.group_by(keys).agg(
        difficulties_coordinated=pl.col("coordinated").sum().cast(pl.Int64),
        difficulties_solved=pl.col("solved").sum().cast(pl.Int64),
    )


def system_statistics(
    consultations: pl.DataFrame,
    duties: pl.DataFrame,
    consultation_cases: pl.DataFrame,
    cases: pl.DataFrame,
    *,
    year: int,
) -> dict[str, int]:
    """The figures of the whole system for `year`."""
    held = consultations.filter(_year("held_on", year))
    done = duties.filter(_year("done_on", year))
    figures: dict[str, int] = {"consultations_held": held.height}
    for kind in CONSULTATION_KINDS:
        figures[f"consultations_{kind}"] = held.filter(pl.col("kind") == kind).height
    for kind in DUTY_KINDS:
        figures[f"duties_{kind}"] = done.filter(pl.col("kind") == kind).height
    figures["members_active"] = done.select(pl.col("member_id").n_unique()).item()
    linked = pl.concat(
        [duties.select("case_id"), consultation_cases.select("case_id")], how="vertical"
    ).unique()
    counts = _difficulties(linked, cases, year).row(0, named=True)
    figures["difficulties_coordinated"] = int(counts["difficulties_coordinated"] or 0)
    figures["difficulties_solved"] = int(counts["difficulties_solved"] or 0)
    return figures


def member_statistics(
    consultations: pl.DataFrame,
    attendance: pl.DataFrame,
    duties: pl.DataFrame,
    cases: pl.DataFrame,
    *,
    year: int,
    members: Collection[int] | None = None,
) -> pl.DataFrame:
    """One row per member (those with data in the year, plus `members`), sorted by id."""
    held = consultations.filter(_year("held_on", year))
    seen = attendance.join(held, on="consultation_id")
    attended = seen.group_by("member_id").agg(
        consultations_attended=(pl.col("status") == "present").sum().cast(pl.Int64),
        topical_attended=((pl.col("status") == "present") & (pl.col("kind") == "topical"))
        .sum()
        .cast(pl.Int64),
        consultations_missed=(pl.col("status") == "absent").sum().cast(pl.Int64),
    )
    done = duties.filter(_year("done_on", year))
    by_kind = done.group_by("member_id").agg(
        [(pl.col("kind") == k).sum().cast(pl.Int64).alias(f"duties_{k}") for k in DUTY_KINDS]
    )
    difficulties = _difficulties(duties.select("member_id", "case_id"), cases, year)
    keys = pl.concat(
        [seen.select("member_id"), done.select("member_id"), difficulties.select("member_id")]
    ).unique()
    if members is not None:
        extra = pl.DataFrame({"member_id": list(members)}, schema={"member_id": pl.Int64()})
        keys = pl.concat([keys, extra]).unique()
    table = (
        keys.join(attended, on="member_id", how="left")
        .join(by_kind, on="member_id", how="left")
        .join(difficulties, on="member_id", how="left")
    )
    counts = [c for c in table.columns if c != "member_id"]
    return table.with_columns([pl.col(c).fill_null(0) for c in counts]).sort("member_id")
