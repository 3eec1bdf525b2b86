"""The diagnosis for the terminal: a rich table with node rows coloured by status."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from chainatlas.briefing.html import (
    action_name,
    fmt_fixed,
    fmt_pct,
    label,
    ordered_nodes,
    quadrant_name,
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
    if diagnosis.synthetic_data:
        console.print(
            Text(
                f"[{label('synthetic_title', lang)}] {label('synthetic_text', lang)}",
                style="bold red",
            )
        )
    console.print(diagnosis_table(diagnosis, lang))
    if diagnosis.actions:
        console.print(Text(label("actions", lang), style="bold"))
        for a in diagnosis.actions:
            reason = a.reason_zh if lang == "zh" else a.reason_en
            console.print(Text.assemble((f"  {action_name(a.kind, lang)}  ", "bold"), reason))
    return buffer.getvalue()
