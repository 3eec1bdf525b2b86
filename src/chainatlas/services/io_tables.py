"""Users' input-output tables: read Z.csv and x.csv, compute linkages, tie sectors to chains.

File format, formulas and errors: docs/io-tables.md. Reading names the file, row and column
of every problem; the numeric checks (negative flows, zero output, non-productive sectors)
are the metric's and name the sector (`chainatlas.metrics.io_linkages`).

Sectors tie to chain nodes through the optional `industry_codes` column of x.csv
(GB/T 4754-2017 division, group or class codes): a node code matches the sector holding its
longest prefix, so a sector listing "1340" takes cane milling from a sector listing "13".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from chainatlas.atlas.graph import customers, suppliers
from chainatlas.atlas.model import Chain
from chainatlas.briefing.frames import Column
from chainatlas.errors import UserError
from chainatlas.metrics.io_linkages import (
    ABOVE_AVERAGE_TOLERANCE,
    IOResult,
    io_linkages,
    linkage_kind,
)
from chainatlas.metrics.status import MISSING, PRESENT, STRONG
from chainatlas.metrics.status import WEAK as WEAK_STATUS

SECTOR_HEADERS = ("sector", "部门", "产业部门")
X_COLUMNS: dict[str, tuple[str, ...]] = {
    "sector": SECTOR_HEADERS,
    "output": ("output", "总产出", "x"),
    "industry_codes": ("industry_codes", "行业代码"),
    "value_added": ("value_added", "增加值"),
    "employment": ("employment", "就业", "就业人数"),
}
SATELLITES = ("value_added", "employment")
CODE_SEPARATORS = re.compile(r"[;；,，、\s]+")
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"

HIGH = 1 + ABOVE_AVERAGE_TOLERANCE  # a normalised linkage above this is above average
Direction = Literal["upstream", "downstream", "both", "none"]


@dataclass(frozen=True)
class IOTable:
    """An I-O table as read: flows z (row sells to column), output x, in `sectors` order."""

    sectors: tuple[str, ...]
    z: np.ndarray
    x: np.ndarray
    industry_codes: tuple[tuple[str, ...], ...]
    satellites: Mapping[str, np.ndarray] = field(default_factory=dict)


# --- reading ------------------------------------------------------------------


def _read(path: Path, role: str) -> pl.DataFrame:
    from chainatlas.ingest.errors import IngestError
    from chainatlas.ingest.readers import read_table

    try:
        return read_table(path)
    except IngestError as error:
        raise UserError(
            f"{role}（{path}）：{error.message_zh}", f"{role} ({path}): {error.message_en}"
        ) from None


def _labels(frame: pl.DataFrame, column: str, role: str) -> list[str]:
    labels = frame[column].str.strip_chars()
    rows = frame["row"]
    blank = labels.is_null() | (labels == "")
    if blank.any():
        row = rows.filter(blank)[0]
        raise UserError(f"{role} 第 {row} 行缺少部门名称", f"{role} row {row}: the sector is empty")
    seen: dict[str, int] = {}
    for label, row in zip(labels.to_list(), rows.to_list(), strict=True):
        if label in seen:
            raise UserError(
                f"{role} 第 {seen[label]} 行和第 {row} 行的部门「{label}」重复",
                f"{role} rows {seen[label]} and {row}: sector '{label}' appears twice",
            )
        seen[label] = row
    return labels.to_list()


def _parsed(text: pl.Expr, *, thousands: bool) -> pl.Expr:
    if thousands:  # "1,500" → 1500; only where the plain cast failed, regexes are slow
        text = (
            pl.when(text.str.contains(_THOUSANDS))
            .then(text.str.replace_all(",", "", literal=True))
            .otherwise(text)
        )
    return text.cast(pl.Float64, strict=False)


def _problem(text: pl.Expr, value: pl.Expr, *, blank_is_zero: bool) -> pl.Expr:
    blank = text.is_null() | (text == "")
    bad = ~blank & (value.is_null() | value.is_nan() | value.is_infinite())
    return bad if blank_is_zero else bad | blank


def _numbers(
    frame: pl.DataFrame, columns: Sequence[str], role: str, *, blank_is_zero: bool
) -> pl.DataFrame:
    """Cast text cells to Float64; blank → 0 (or an error); name the first bad cell.

    One cast over all columns; a column is looked at again (thousands separators allowed,
    then the first bad cell named) only when its cast lost cells or gave NaN/inf.
    """
    text = {c: pl.col(c).str.strip_chars() for c in columns}
    values = frame.select(_parsed(text[c], thousands=False).alias(c) for c in columns)
    blanks = frame.select(columns).null_count().row(0)
    nulls = values.null_count().row(0)
    finite = values.select(pl.col(c).is_finite().all() for c in columns).row(0)
    failing = {
        c
        for c, blank, null, ok in zip(columns, blanks, nulls, finite, strict=True)
        if null > blank or not ok or (blank and not blank_is_zero)
    }
    if failing:
        _check_failing(frame, [c for c in columns if c in failing], role, blank_is_zero)
        values = frame.select(_parsed(text[c], thousands=c in failing).alias(c) for c in columns)
    return values.fill_null(0.0)


def _check_failing(
    frame: pl.DataFrame, failing: Sequence[str], role: str, blank_is_zero: bool
) -> None:
    """Raise naming the first bad cell (file order) of the `failing` columns, if any."""
    text = {c: pl.col(c).str.strip_chars() for c in failing}
    problems = frame.select(
        pl.col("row"),
        *(
            _problem(text[c], _parsed(text[c], thousands=True), blank_is_zero=blank_is_zero)
            .fill_null(False)
            .alias(c)
            for c in failing
        ),
    )
    flagged = [c for c in failing if problems[c].any()]
    if not flagged:
        return
    index = int(problems.select(pl.any_horizontal(flagged).arg_max()).item())
    column = next(c for c in flagged if problems[c][index])
    row = problems["row"][index]
    cell = frame[column][index]
    cell = cell.strip() if cell is not None else None
    number = frame.columns.index(column)  # `row` comes first, so this is the file's column
    where_zh = f"{role} 第 {row} 行「{column}」列（第 {number} 列）"
    where_en = f"{role} row {row}, column '{column}' (column {number})"
    if not cell:
        raise UserError(f"{where_zh}为空", f"{where_en} is empty")
    raise UserError(f"{where_zh}不是数字：「{cell}」", f"{where_en} is not a number: '{cell}'")


def _read_z(path: Path) -> tuple[list[str], np.ndarray]:
    role = path.name
    frame = _read(path, role)
    headers = frame.columns[1:]
    if not headers or headers[0].strip().lower() not in SECTOR_HEADERS:
        first = headers[0] if headers else ""
        raise UserError(
            f"{role} 的第 1 列应为部门列，表头写 sector（或 部门），实际为「{first}」",
            f"{role}: column 1 must hold the sectors, headed 'sector', found '{first}'",
        )
    labels = _labels(frame, headers[0], role)
    rows = frame["row"].to_list()
    columns = [h.strip() for h in headers[1:]]
    for k, (column, label) in enumerate(zip(columns, labels, strict=False)):
        if column != label:
            raise UserError(
                f"{role} 第 {k + 2} 列的表头「{column}」与第 {rows[k]} 行的部门「{label}」不一致："
                "各列须与各行同名同序",
                f"{role}: header of column {k + 2} '{column}' differs from the sector of "
                f"row {rows[k]} '{label}': columns must name the sectors in the row order",
            )
    if len(columns) != len(labels):
        extra_zh, extra_en = (
            (f"多出的列「{columns[len(labels)]}」", f"extra column '{columns[len(labels)]}'")
            if len(columns) > len(labels)
            else (
                f"第 {rows[len(columns)]} 行的部门「{labels[len(columns)]}」没有对应的列",
                f"sector '{labels[len(columns)]}' of row {rows[len(columns)]} has no column",
            )
        )
        raise UserError(
            f"{role} 不是方阵：{len(labels)} 行部门、{len(columns)} 列部门；{extra_zh}",
            f"{role} is not square: {len(labels)} sector rows, {len(columns)} sector "
            f"columns; {extra_en}",
        )
    values = _numbers(frame, headers[1:], role, blank_is_zero=True)
    return labels, values.to_numpy().astype(np.float64, copy=False)


def _x_columns(frame: pl.DataFrame, role: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in frame.columns[1:]:
        key = header.strip().lower()
        for canonical, aliases in X_COLUMNS.items():
            if key in aliases:
                if canonical in found:
                    raise UserError(
                        f"{role} 的「{found[canonical]}」和「{header}」都表示 {canonical}，请只保留一列",
                        f"{role}: '{found[canonical]}' and '{header}' both mean {canonical}; keep one",
                    )
                found[canonical] = header
    missing = [c for c in ("sector", "output") if c not in found]
    if missing:
        raise UserError(
            f"{role} 缺少列：{'、'.join(missing)}（需要 sector 和 output）",
            f"{role} lacks column(s): {', '.join(missing)} (needs sector and output)",
        )
    return found


def _industry_codes(
    cells: Sequence[str | None], labels: Sequence[str], rows: Sequence[int], role: str
) -> tuple[tuple[str, ...], ...]:
    from chainatlas.reference.industry import industry_table

    known = {r["code"] for r in industry_table() if r["level"] in ("division", "group", "class")}
    owner: dict[str, str] = {}
    result: list[tuple[str, ...]] = []
    for cell, label, row in zip(cells, labels, rows, strict=True):
        codes = tuple(dict.fromkeys(c for c in CODE_SEPARATORS.split(cell or "") if c))
        for code in codes:
            if code not in known:
                raise UserError(
                    f"{role} 第 {row} 行部门「{label}」的行业代码「{code}」不是 GB/T 4754-2017 的"
                    "大类（2 位）、中类（3 位）或小类（4 位）代码",
                    f"{role} row {row}, sector '{label}': industry code '{code}' is not a "
                    "GB/T 4754-2017 division (2 digits), group (3) or class (4) code",
                )
            if code in owner:
                raise UserError(
                    f"{role} 行业代码「{code}」同时属于部门「{owner[code]}」和「{label}」（第 {row} 行）",
                    f"{role}: industry code '{code}' is given to both '{owner[code]}' and "
                    f"'{label}' (row {row})",
                )
            owner[code] = label
        result.append(codes)
    return tuple(result)


def read_io_table(z_path: Path, x_path: Path) -> IOTable:
    """Read Z.csv (flows) and x.csv (output, optional industry_codes, value_added, employment).

    Rows of x.csv may come in any order; they are aligned to Z's. Raises UserError naming
    the file, row, column or sector of the first problem.
    """
    sectors, z = _read_z(Path(z_path))
    x_path = Path(x_path)
    role = x_path.name
    frame = _read(x_path, role)
    columns = _x_columns(frame, role)
    labels = _labels(frame, columns["sector"], role)
    rows = frame["row"].to_list()
    position = {label: k for k, label in enumerate(labels)}
    for sector in sectors:
        if sector not in position:
            raise UserError(
                f"{role} 缺少 Z 表中的部门「{sector}」", f"{role} lacks sector '{sector}' of Z"
            )
    in_z = set(sectors)
    for label, row in zip(labels, rows, strict=True):
        if label not in in_z:
            raise UserError(
                f"{role} 第 {row} 行的部门「{label}」不在 Z 表中",
                f"{role} row {row}: sector '{label}' is not in Z",
            )
    order = [position[s] for s in sectors]
    frame = frame[order, :]
    numeric = [columns[c] for c in ("output", *SATELLITES) if c in columns]
    values = _numbers(frame, numeric, role, blank_is_zero=False)
    codes_column = columns.get("industry_codes")
    codes = (
        _industry_codes(frame[codes_column].to_list(), sectors, frame["row"].to_list(), role)
        if codes_column
        else tuple(() for _ in sectors)
    )
    satellites = {c: values[columns[c]].to_numpy() for c in SATELLITES if c in columns}
    return IOTable(tuple(sectors), z, values[columns["output"]].to_numpy(), codes, satellites)


def run_io_linkages(z_path: Path, x_path: Path) -> IOResult:
    """Read the table and compute A, L, B, G, linkages, key sectors and multipliers."""
    table = read_io_table(z_path, x_path)
    return io_linkages(table.z, table.x, table.sectors, satellites=table.satellites)


# --- output helpers for the CLI and the API -------------------------------------


def matrix_frame(result: IOResult, name: Literal["A", "L", "B", "G"]) -> pl.DataFrame:
    """One matrix as a frame: `sector` (row label), then one Float64 column per sector."""
    matrix: np.ndarray = getattr(result, name)
    return pl.DataFrame(
        {"sector": list(result.sectors)} | {s: matrix[:, j] for j, s in enumerate(result.sectors)}
    )


def io_result_dict(result: IOResult, *, matrices: bool = True) -> dict[str, Any]:
    """JSON-ready: sectors, linkages (records) and, with `matrices`, A, L, B, G as row lists."""
    out: dict[str, Any] = {
        "sectors": list(result.sectors),
        "linkages": result.linkages.to_dicts(),
    }
    if matrices:
        out |= {name: getattr(result, name).tolist() for name in ("A", "L", "B", "G")}
    return out


# --- chains -------------------------------------------------------------------


def _sector_index(table: IOTable) -> dict[str, int]:
    return {code: k for k, codes in enumerate(table.industry_codes) for code in codes}


def _match(code: str, index: Mapping[str, int]) -> int | None:
    """The sector holding the longest prefix of `code` (class → group → division)."""
    for length in range(len(code), 1, -1):
        if code[:length] in index:
            return index[code[:length]]
    return None


def node_io_weights(chain: Chain, table: IOTable, result: IOResult) -> pl.DataFrame:
    """Per node of `chain`, its I-O sector(s) and linkage weight.

    Each of the node's industry codes maps to the sector with the longest matching prefix;
    a node matching several sectors takes their output-weighted mean of backward_norm and
    forward_norm. weight = (backward_norm + forward_norm) / 2, so a key-sector node weighs
    more than 1 and a weak one less; an unmatched node (or one matching only sectors with
    zero output) gets weight 1 and null sector and linkages.

    Columns: node_id, sector (matched sector labels joined by ";", largest output first),
    backward_norm, forward_norm, kind (key | backward | forward | weak, from the two
    norms), weight.
    """
    if tuple(result.sectors) != tuple(table.sectors):
        raise UserError(
            "投入产出结果与表的部门不一致，请用同一张表计算",
            "the I-O result's sectors differ from the table's; compute it from the same table",
        )
    index = _sector_index(table)
    backward = result.linkages["backward_norm"].to_numpy()
    forward = result.linkages["forward_norm"].to_numpy()
    rows: list[dict[str, Any]] = []
    for node in chain.nodes:
        matched = {k for code in node.industry_codes if (k := _match(code, index)) is not None}
        sectors = sorted((k for k in matched if table.x[k] > 0), key=lambda k: (-table.x[k], k))
        if not sectors:
            rows.append(
                {"node_id": node.id, "sector": None, "backward_norm": None, "forward_norm": None}
            )
            continue
        w = table.x[sectors]
        rows.append(
            {
                "node_id": node.id,
                "sector": ";".join(table.sectors[k] for k in sectors),
                "backward_norm": float(w @ backward[sectors] / w.sum()),
                "forward_norm": float(w @ forward[sectors] / w.sum()),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "node_id": pl.String,
            "sector": pl.String,
            "backward_norm": pl.Float64,
            "forward_norm": pl.Float64,
        },
        orient="row",
    )
    b, f = pl.col("backward_norm"), pl.col("forward_norm")
    return frame.with_columns(
        linkage_kind(b, f).alias("kind"), ((b + f) / 2).fill_null(1.0).alias("weight")
    )


def _names(chain: Chain, ids: Sequence[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(f"「{chain.node(i).name_zh}」" for i in ids)
    return ", ".join(f"'{chain.node(i).name_en}'" for i in ids)


def _reason(
    chain: Chain,
    node_id: str,
    direction: Direction,
    b: float | None,
    f: float | None,
    up: list[str],
    down: list[str],
) -> tuple[str, str]:
    node = chain.node(node_id)
    if b is None or f is None:
        return (
            f"「{node.name_zh}」未匹配到投入产出部门，无法据投入产出表判断延链方向",
            f"'{node.name_en}' matches no I-O sector; the table gives no extension direction",
        )
    figures_zh = f"后向关联 {b:.2f}、前向关联 {f:.2f}"
    figures_en = f"backward linkage {b:.2f}, forward linkage {f:.2f}"
    if direction == "none":
        return (
            f"「{node.name_zh}」{figures_zh}，均不高于平均（1），投入产出表不支持优先向任一方向延链",
            f"'{node.name_en}': {figures_en}, neither above average (1); the I-O table "
            "favours no extension direction",
        )
    why_zh = {
        "upstream": "后向关联高于平均：生产需拉动大量中间投入，宜向上游（供应环节）延链",
        "downstream": "前向关联高于平均：产出广泛用作其他部门投入，宜向下游（用户环节）延链",
        "both": "前后向关联均高于平均（关键部门），宜向上下游两端延链",
    }[direction]
    why_en = {
        "upstream": "backward linkage above average: it pulls many inputs, so extend "
        "upstream (toward suppliers)",
        "downstream": "forward linkage above average: its output feeds many sectors, so "
        "extend downstream (toward customers)",
        "both": "both linkages above average (key sector), so extend both ways",
    }[direction]
    parts_zh, parts_en = [], []
    for side, ids, wanted in (("上游", up, "upstream"), ("下游", down, "downstream")):
        if direction not in (wanted, "both"):
            continue
        side_en = wanted
        if ids:
            parts_zh.append(f"{side}待延环节：{_names(chain, ids, 'zh')}")
            parts_en.append(f"{side_en.capitalize()} nodes to add: {_names(chain, ids, 'en')}")
        else:
            parts_zh.append(f"{side}相邻环节已具备或没有，宜强链")
            parts_en.append(f"The {side_en} neighbours are already held or absent; strengthen")
    return (
        f"「{node.name_zh}」{figures_zh}；{why_zh}。" + "；".join(parts_zh),
        f"'{node.name_en}': {figures_en}; {why_en}. " + "; ".join(parts_en),
    )


def extension_direction(
    chain: Chain, node_weights: pl.DataFrame, node_status: pl.DataFrame
) -> pl.DataFrame:
    """For each present or strong node, the direction its I-O linkages favour for 延链.

    upstream when only backward_norm > 1 (the node pulls many inputs), downstream when only
    forward_norm > 1 (its output feeds many sectors), both for a key sector, none otherwise
    or when the node has no I-O sector. The adjacent nodes in that direction (supply edges,
    recycling edges left out) that the region lacks — missing, weak or not in node_status —
    are the ones to extend into.

    node_weights: node_id, backward_norm, forward_norm (from `node_io_weights`);
    node_status: node_id, status (missing | weak | present | strong).

    Columns: node_id, status, backward_norm, forward_norm, direction (upstream | downstream
    | both | none), upstream_nodes, downstream_nodes (List[String], in edge order),
    reason_zh, reason_en. Rows in chain node order.
    """
    for frame, name, needed in (
        (node_status, "node_status", ("node_id", "status")),
        (node_weights, "node_weights", ("node_id", "backward_norm", "forward_norm")),
    ):
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise UserError(
                f"{name} 缺少列：{'、'.join(absent)}",
                f"{name} lacks column(s): {', '.join(absent)}",
            )
    known = set(chain.node_ids)
    allowed = {MISSING, WEAK_STATUS, PRESENT, STRONG}
    status: dict[str, str] = {}
    for node_id, value in node_status.select("node_id", "status").iter_rows():
        if node_id not in known:
            raise UserError(
                f"环节「{node_id}」不在产业链 {chain.id} 中",
                f"node '{node_id}' is not in chain {chain.id}",
            )
        if value not in allowed:
            raise UserError(
                f"环节「{node_id}」的状态「{value}」无效（应为 missing/weak/present/strong）",
                f"node '{node_id}' has invalid status '{value}' (missing/weak/present/strong)",
            )
        status[node_id] = value
    linkages = {
        r["node_id"]: (r["backward_norm"], r["forward_norm"])
        for r in node_weights.select("node_id", "backward_norm", "forward_norm").iter_rows(
            named=True
        )
    }
    held = {n for n, s in status.items() if s in (PRESENT, STRONG)}
    rows: list[dict[str, Any]] = []
    for node_id in chain.node_ids:
        if node_id not in held:
            continue
        b, f = linkages.get(node_id, (None, None))
        direction: Direction
        if b is None or f is None:
            direction = "none"
        elif b > HIGH and f > HIGH:
            direction = "both"
        elif b > HIGH:
            direction = "upstream"
        elif f > HIGH:
            direction = "downstream"
        else:
            direction = "none"
        up = (
            [
                n
                for n in dict.fromkeys(suppliers(chain, node_id, include_recycling=False))
                if n not in held
            ]
            if direction in ("upstream", "both")
            else []
        )
        down = (
            [
                n
                for n in dict.fromkeys(customers(chain, node_id, include_recycling=False))
                if n not in held
            ]
            if direction in ("downstream", "both")
            else []
        )
        reason_zh, reason_en = _reason(chain, node_id, direction, b, f, up, down)
        rows.append(
            {
                "node_id": node_id,
                "status": status[node_id],
                "backward_norm": b,
                "forward_norm": f,
                "direction": direction,
                "upstream_nodes": up,
                "downstream_nodes": down,
                "reason_zh": reason_zh,
                "reason_en": reason_en,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "node_id": pl.String,
            "status": pl.String,
            "backward_norm": pl.Float64,
            "forward_norm": pl.Float64,
            "direction": pl.String,
            "upstream_nodes": pl.List(pl.String),
            "downstream_nodes": pl.List(pl.String),
            "reason_zh": pl.String,
            "reason_en": pl.String,
        },
        orient="row",
    )


LINKAGE_COLUMNS = [
    Column("sector", "部门", "sector"),
    Column("output", "总产出", "output", "float"),
    Column("backward", "后向关联", "backward", "float"),
    Column("forward", "前向关联", "forward", "float"),
    Column("backward_norm", "后向（标准化）", "backward (norm.)", "float"),
    Column("forward_norm", "前向（标准化）", "forward (norm.)", "float"),
    Column("kind", "类型", "kind"),
    Column("output_multiplier", "产出乘数", "output multiplier", "float"),
]

KIND_LABELS = {
    "key": ("关键部门", "key"),
    "backward": ("后向型", "backward-oriented"),
    "forward": ("前向型", "forward-oriented"),
    "weak": ("一般部门", "weak"),
}


def linkage_display(result: IOResult, lang: str = "zh") -> pl.DataFrame:
    """The linkages with the kind in words, for tables."""
    i = 0 if lang == "zh" else 1
    labels = {k: v[i] for k, v in KIND_LABELS.items()}
    return result.linkages.with_columns(pl.col("kind").replace_strict(labels, default=None))
