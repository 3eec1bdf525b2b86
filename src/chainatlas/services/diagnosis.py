"""Run a diagnosis against the configured warehouse and write it in the asked format."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.diagnose import Diagnosis, diagnose
from chainatlas.diagnose.model import Action
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.settings import Settings


def open_warehouse(settings: Settings, *, read_only: bool = True) -> Warehouse:
    path = settings.warehouse_path
    if not path.exists():
        raise UserError(
            f"仓库不存在：{path}；请先运行 chainatlas demo 或 chainatlas ingest",
            f"no warehouse at {path}; run `chainatlas demo` or `chainatlas ingest` first",
        )
    return Warehouse(path, read_only=read_only)


def run_diagnosis(
    settings: Settings,
    chain: Chain,
    region_code: str,
    io_table: tuple[Path, Path] | None = None,
) -> Diagnosis:
    """The diagnosis of `region_code` on `chain`; with `io_table` (Z.csv, x.csv) the node
    weights come from the table's linkages and the I-O extension directions join the
    recommended actions."""
    with open_warehouse(settings) as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        if io_table is None:
            return diagnose(wh, chain, region_code, settings.status, settings.lead_firm)
        return diagnose_with_io(wh, chain, region_code, settings, *io_table)


def io_weighted(chain: Chain, weights: pl.DataFrame) -> Chain:
    """The chain with each node's weight replaced by its I-O linkage weight."""
    by_node = dict(zip(weights["node_id"], weights["weight"], strict=True))
    nodes = tuple(replace(n, weight=float(by_node.get(n.id, n.weight))) for n in chain.nodes)
    return replace(chain, nodes=nodes)


def io_extension_actions(chain: Chain, weights: pl.DataFrame, diagnosis: Diagnosis) -> list[Action]:
    """延链 suggestions from the I-O linkages: one `extend` action per held node whose
    linkages favour a direction in which the region lacks adjacent nodes."""
    from chainatlas.services.io_tables import extension_direction

    statuses = pl.DataFrame(
        {"node_id": [n.id for n in diagnosis.nodes], "status": [n.status for n in diagnosis.nodes]}
    )
    directions = extension_direction(chain, weights, statuses)
    actions = []
    for row in directions.iter_rows(named=True):
        targets = [*row["upstream_nodes"], *row["downstream_nodes"]]
        if row["direction"] != "none" and targets:
            actions.append(
                Action(
                    kind="extend",
                    node_ids=targets,
                    reason_zh="投入产出关联：" + row["reason_zh"],
                    reason_en="Input-output linkages: " + row["reason_en"],
                )
            )
    return actions


def diagnose_with_io(
    wh: Warehouse, chain: Chain, region_code: str, settings: Settings, z_path: Path, x_path: Path
) -> Diagnosis:
    from chainatlas.metrics.io_linkages import io_linkages
    from chainatlas.services.io_tables import node_io_weights, read_io_table

    table = read_io_table(z_path, x_path)
    result = io_linkages(table.z, table.x, table.sectors, satellites=table.satellites)
    weights = node_io_weights(chain, table, result)
    diagnosis = diagnose(
        wh, io_weighted(chain, weights), region_code, settings.status, settings.lead_firm
    )
    diagnosis.actions.extend(io_extension_actions(chain, weights, diagnosis))
    diagnosis.node_weights = "io_table"
    return diagnosis


def write_diagnosis(
    diagnosis: Diagnosis, chain: Chain, fmt: str, out: Path | None, lang: str = "zh"
) -> str:
    """Render `diagnosis` as json | html | xlsx; write to `out` when given, return the text."""
    from chainatlas.briefing.html import diagnosis_html
    from chainatlas.briefing.xlsx import diagnosis_xlsx

    if fmt == "xlsx":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        diagnosis_xlsx(diagnosis, out, lang=lang)
        return ""
    if fmt == "table":
        from chainatlas.briefing.table import render_text

        text = render_text(diagnosis, lang)
    elif fmt == "json":
        text = diagnosis.to_json() + "\n"
    else:
        text = diagnosis_html(diagnosis, chain, lang=lang)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
    return text
