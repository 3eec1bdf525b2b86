"""The diagnosis for the terminal: a rich table with node rows coloured by status."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from chainatlas.briefing.html import (
    action_name,
    evidence_text,
    fmt_fixed,
    fmt_pct,
    has_network,
    label,
    ordered_nodes,
    quadrant_name,
    sourcing_text,
    spof_rows,
    stage_name,
    status_name,
)
from chainatlas.diagnose.model import Diagnosis

STATUS_STYLE: dict[str, str] = {
    "missing": "grey50",
    "weak": "dark_orange",
    "present": "deep_sky_blue1",
    "strong": "green",
}
BREAK_STYLE = "bold white on red"


def diagnosis_table(diagnosis: Diagnosis, lang: str = "zh") -> Table:
    """One row per node (grouped by stage), coloured by status; 断链 marked in red."""
    zh = lang == "zh"
    title = (
        f"{diagnosis.region.full_name}·{diagnosis.chain.name_zh}{label('title_suffix')}"
        if zh
        else f"{diagnosis.chain.name_en} {label('title_suffix', 'en')} — "
        f"{diagnosis.region.full_name}"
    )
    caption = (
        f"{label('local_firms', lang)} {diagnosis.firm_count:,} · "
        f"{label('completeness', lang)} {fmt_pct(diagnosis.completeness)}"
    )
    network = has_network(diagnosis)
    if network:
        caption += f" · {label('sourcing', lang)} {sourcing_text(diagnosis.sourcing, lang)}"
    if diagnosis.synthetic_data:
        caption += " · " + label("synthetic_title", lang)
    table = Table(
        title=title,
        caption=caption,
        header_style="bold",
        title_style="bold",
        caption_style="bold red" if diagnosis.synthetic_data else "dim",
    )
    table.add_column(label("node", lang))
    table.add_column(label("stage", lang))
    table.add_column(label("firm_count", lang), justify="right")
    table.add_column(label("national_share", lang), justify="right")
    table.add_column(label("lq", lang), justify="right")
    table.add_column(label("lq_capital", lang), justify="right")
    table.add_column(label("status", lang))
    table.add_column(label("break", lang))
    trend = diagnosis.trend_years is not None
    if trend:
        table.add_column(label("quadrant", lang))
    nodes = ordered_nodes(diagnosis)
    for i, n in enumerate(nodes):
        style = STATUS_STYLE.get(n.status, "")
        brk = Text(f" {status_name('break', lang)} ", style=BREAK_STYLE) if n.is_break else Text("")
        table.add_row(
            n.name_zh if zh else n.name_en,
            stage_name(n.stage, lang),
            f"{n.firm_count:,}",
            fmt_pct(n.national_share),
            fmt_fixed(n.lq),
            fmt_fixed(n.lq_capital),
            Text(status_name(n.status, lang), style=f"bold {style}"),
            brk,
            *([quadrant_name(n.quadrant, lang)] if trend else []),
            style=style,
            end_section=i + 1 < len(nodes) and nodes[i + 1].stage != n.stage,
        )
    return table


def sourcing_table(diagnosis: Diagnosis, lang: str = "zh") -> Table:
    """Per node with recorded purchases: the share bought locally and, for a break, the
    evidence of the region's purchases."""
    table = Table(
        title=label("node_sourcing", lang) + " · " + label("break_evidence", lang),
        title_justify="left",
        title_style="bold",
        header_style="bold",
    )
    table.add_column(label("node", lang))
    table.add_column(label("node_sourcing", lang), justify="right")
    table.add_column(label("break_evidence", lang))
    for n in ordered_nodes(diagnosis):
        rate = n.sourcing.local_sourcing_rate if n.sourcing else None
        if rate is None and n.break_evidence is None:
            continue
        table.add_row(
            n.name_zh if lang == "zh" else n.name_en,
            fmt_pct(rate, 0),
            Text(evidence_text(n.break_evidence, lang), style="red" if n.is_break else ""),
        )
    return table


def diagnosis_renderables(diagnosis: Diagnosis, lang: str = "zh") -> list[RenderableType]:
    """What the terminal shows: the synthetic-data warning, the node table, with the supply
    network its sourcing and single points of failure, and the recommended actions."""
    out: list[RenderableType] = []
    if diagnosis.synthetic_data:
        out.append(
            Text(
                f"[{label('synthetic_title', lang)}] {label('synthetic_text', lang)}",
                style="bold red",
            )
        )
    out.append(diagnosis_table(diagnosis, lang))
    if has_network(diagnosis):
        out += [sourcing_table(diagnosis, lang), spof_table(diagnosis, lang)]
    if diagnosis.actions:
        out.append(Text(label("actions", lang), style="bold"))
        for a in diagnosis.actions:
            reason = a.reason_zh if lang == "zh" else a.reason_en
            out.append(Text.assemble((f"  {action_name(a.kind, lang)}  ", "bold"), reason))
    return out


def spof_table(diagnosis: Diagnosis, lang: str = "zh") -> Table:
    """The region's single points of failure (an empty table says none was found)."""
    share = fmt_pct(diagnosis.thresholds.get("spof_share", 0.5), 0)
    rows = spof_rows(diagnosis, lang)
    table = Table(
        title=label("spof", lang),
        title_justify="left",
        title_style="bold",
        caption=label("spof_intro", lang).format(share=share)
        + ("" if rows else " " + label("no_spof", lang)),
        caption_justify="left",
        caption_style="dim",
        header_style="bold",
    )
    table.add_column(label("node", lang))
    table.add_column(label("spof_kind", lang))
    table.add_column(label("spof_who", lang))
    table.add_column(label("spof_share", lang), justify="right")
    table.add_column(label("spof_links", lang), justify="right")
    for r in rows:
        table.add_row(r["node"], r["kind"], r["who"], fmt_pct(r["share"], 0), f"{r['links']:,}")
    return table


def render_text(
    diagnosis: Diagnosis, lang: str = "zh", *, width: int = 110, color: bool = False
) -> str:
    """The table plus the recommended actions as text (ANSI colours when `color`)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        legacy_windows=False,
    )
    for item in diagnosis_renderables(diagnosis, lang):
        console.print(item)
    return buffer.getvalue()
