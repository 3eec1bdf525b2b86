"""Run a diagnosis against the configured warehouse and write it in the asked format."""

from __future__ import annotations

from pathlib import Path

from chainatlas.atlas.model import Chain
from chainatlas.diagnose import Diagnosis, diagnose
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


def run_diagnosis(settings: Settings, chain: Chain, region_code: str) -> Diagnosis:
    with open_warehouse(settings) as wh:
        if not wh.has_table("node_facts"):
            raise UserError("仓库中尚无企业数据", "the warehouse holds no enterprises yet")
        return diagnose(wh, chain, region_code, settings.status, settings.lead_firm)


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

        text = render_text(diagnosis)
    elif fmt == "json":
        text = diagnosis.to_json() + "\n"
    else:
        text = diagnosis_html(diagnosis, chain, lang=lang)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
    return text
